// Environment namespaces, resolved in this one place: with TESSERA_ENV=prod a setup file's 'app/docs' is
// 'prod_app/docs', so dev, staging and prod can share one server without sharing tables.

export function currentEnv(): string | undefined {
  const env = process.env.TESSERA_ENV?.trim()
  return env ? env : undefined
}

export function resolveEnvPath(path: string, env: string | undefined = currentEnv()): string {
  if (!env) return path
  const [head, ...rest] = path.split('/')
  if (head!.startsWith(`${env}_`)) return path
  return [`${env}_${head}`, ...rest].join('/')
}
