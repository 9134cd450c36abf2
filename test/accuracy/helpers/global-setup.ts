// Says once, up front, why the accuracy tests are about to skip.
import { HAVE_REAL_MODEL, NO_MODEL_MESSAGE, REAL_MODEL } from "./env.js";

export default function setup(): void {
  if (!HAVE_REAL_MODEL) console.warn(`\n${NO_MODEL_MESSAGE}\n`);
  else console.log(`\naccuracy tests: real model ${REAL_MODEL}\n`);
}
