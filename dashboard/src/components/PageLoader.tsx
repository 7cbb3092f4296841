import { Center, Loader } from '@mantine/core';

/** A spinner while the console starts or a page's code arrives. */
export function PageLoader({ label, fullScreen = false }: { label: string; fullScreen?: boolean }) {
  return (
    <Center mih={fullScreen ? '100vh' : 200} role="status">
      <Loader aria-label={label} />
    </Center>
  );
}
