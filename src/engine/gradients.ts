// tfjs-core's Node build registers no gradient functions; the @tensorflow/tfjs package registers them all
// (its Node bundle carries them) in the shared registry. Imported for that side effect only.
import '@tensorflow/tfjs';
