import type { TestContext } from 'node:test'

/**
 * The messages of `process.emitWarning` calls with `code` from now until the test ends (recorded
 * as they are made, and not printed); warnings with other codes are passed on.
 */
export function capturedWarnings(t: TestContext, code: string): string[] {
  const seen: string[] = []
  const emit = process.emitWarning.bind(process)
  t.mock.method(process, 'emitWarning', function capture(message: string, opts?: unknown) {
    if ((opts as { code?: string } | undefined)?.code === code) seen.push(message)
    else emit(message, opts as NodeJS.EmitWarningOptions)
  })
  return seen
}
