export function PaveLogo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" fill="var(--mantine-color-indigo-8)" />
      <path d="M6 22h20M9 16h14M12 10h8" stroke="white" strokeWidth="3" strokeLinecap="round" />
    </svg>
  );
}
