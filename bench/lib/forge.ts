/**
 * Forged session cookies that look valid: the version, key id and creation time of a real token
 * (so they pass the parser and reach the MAC check), with a random id and a random MAC.
 */

type RandomBytes = (size: number) => Buffer

/** A forged token shaped like `template` (`t1.<kid>.<createdAt>.<id>.<mac>`). */
export function forgeToken(template: string, random: RandomBytes): string {
  const parts = template.split('.')
  if (parts.length !== 5) throw new Error('the template is not a t1 session token')
  const id = random(32).toString('base64url')
  const mac = random(32).toString('base64url')
  return `${parts[0]}.${parts[1]}.${parts[2]}.${id}.${mac}`
}
