"""TinyZero's Countdown reward on unitrace's crafted cases, for test/trace/countdown.test.ts.

TinyZero (github.com/Jiayi-Pan/TinyZero, verl/utils/reward_score/countdown.py, compute_score) is restated
here step by step (the same regular expressions, the same eval with builtins removed, the same order of
checks and the same scores), without its random debug printing. The response is preceded by the chat
marker TinyZero splits on, as in its solution string.

    python3 scripts/golden_countdown.py            # rewrites test/trace/golden/countdown-tinyzero.json
    python3 scripts/golden_countdown.py --stdout   # prints the scores (the test compares them)
"""
import json
import re
import sys
import warnings
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent / "test" / "trace" / "golden"


def last_answer(solution):
    """The last <answer>...</answer> on the last line after the assistant marker, stripped; None without one."""
    for marker in ("Assistant:", "<|im_start|>assistant"):
        if marker in solution:
            tail = solution.split(marker, 1)[1]
            break
    else:
        return None
    found = re.findall(r"<answer>(.*?)</answer>", tail.split("\n")[-1])
    return found[-1].strip() if found else None


def uses_each_number_once(equation, numbers):
    try:
        return sorted(int(d) for d in re.findall(r"\d+", equation)) == sorted(numbers)
    except Exception:
        return False


def value_of(equation):
    """eval() behind TinyZero's character filter; None when filtered out or when evaluation raises."""
    try:
        if not re.match(r"^[\d+\-*/().\s]+$", equation):
            raise ValueError("characters outside the filter")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "'int' object is not callable" SyntaxWarnings
            return eval(equation, {"__builtins__": None}, {})
    except Exception:
        return None


def tinyzero_score(response, numbers, target, format_score=0.1, score=1.0):
    equation = last_answer("<|im_start|>assistant\n" + response)
    if equation is None:
        return 0
    if not uses_each_number_once(equation, numbers):
        return format_score
    try:
        result = value_of(equation)
        if result is None:
            return format_score
        return score if abs(result - target) < 1e-5 else format_score
    except Exception:
        return format_score


def main():
    cases = json.loads((GOLDEN / "countdown-cases.json").read_text())["cases"]
    scores = {c["id"]: tinyzero_score(c["response"], c["nums"], c["target"]) for c in cases}
    out = {"generator": "scripts/golden_countdown.py", "python": sys.version.split()[0], "scores": scores}
    text = json.dumps(out, indent=1) + "\n"
    if "--stdout" in sys.argv:
        sys.stdout.write(json.dumps(scores))
    else:
        (GOLDEN / "countdown-tinyzero.json").write_text(text)
        print(f"wrote {len(scores)} scores", file=sys.stderr)


if __name__ == "__main__":
    main()
