/** `asl-validator`'s default export, loaded on first use (see lazy-asl-validator.mjs). */
export default function aslValidator(
  definition: unknown,
  options?: unknown,
): { isValid: boolean; errors: unknown[]; errorsText: (separator?: string) => string };
