/** The page and its parameters live in the URL query (`?page=labs&lab=2`); the token lives in sessionStorage, never in the address. */
export function navigate(page: string, params: Record<string, string | number> = {}): void {
  const query = new URLSearchParams({ page, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) })
  history.pushState(null, '', `?${query}${location.hash}`)
  dispatchEvent(new PopStateEvent('popstate'))
}

export const param = (name: string): string | null => new URLSearchParams(location.search).get(name)
