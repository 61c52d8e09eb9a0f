export function ErrorText({ children }: { children: React.ReactNode }) {
  return children ? <p role="alert" className="rounded border border-red-800 bg-red-950 px-3 py-2 text-sm text-red-200">{children}</p> : null;
}

export function Loading() {
  return <p role="status" className="text-neutral-400">Loading…</p>;
}

export const inputClass = "w-full rounded border border-neutral-700 bg-neutral-900 px-3 py-2 text-neutral-100 placeholder:text-neutral-500";
export const buttonClass = "rounded bg-fuchsia-700 px-4 py-2 font-medium text-white hover:bg-fuchsia-600 disabled:opacity-50";
export const quietButtonClass = "rounded border border-neutral-700 px-3 py-1.5 text-sm hover:bg-neutral-800 disabled:opacity-50";
