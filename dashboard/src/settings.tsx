import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';

// UI preferences only (never credentials) are kept in localStorage.
const KEY = 'garrison.console.refreshSeconds';
export const REFRESH_CHOICES = [0, 5, 10, 30, 60] as const;
export const DEFAULT_REFRESH_SECONDS = 10;

interface SettingsValue {
  refreshSeconds: number;
  setRefreshSeconds: (seconds: number) => void;
}

const SettingsContext = createContext<SettingsValue>({
  refreshSeconds: DEFAULT_REFRESH_SECONDS,
  setRefreshSeconds: () => {},
});

function stored(): number {
  const value = Number(window.localStorage.getItem(KEY));
  return (REFRESH_CHOICES as readonly number[]).includes(value) && window.localStorage.getItem(KEY) !== null
    ? value
    : DEFAULT_REFRESH_SECONDS;
}

export function SettingsProvider({ children }: { children: ReactNode }) {
  const [refreshSeconds, setSeconds] = useState<number>(stored);
  const value = useMemo(
    () => ({
      refreshSeconds,
      setRefreshSeconds: (seconds: number) => {
        window.localStorage.setItem(KEY, String(seconds));
        setSeconds(seconds);
      },
    }),
    [refreshSeconds],
  );
  return <SettingsContext.Provider value={value}>{children}</SettingsContext.Provider>;
}

export function useSettings(): SettingsValue {
  return useContext(SettingsContext);
}

/** Query options for data on screen: polled at the chosen interval, paused while the tab is hidden. */
export function useLive(): { refetchInterval: number | false; refetchIntervalInBackground: false } {
  const { refreshSeconds } = useSettings();
  return {
    refetchInterval: refreshSeconds > 0 ? refreshSeconds * 1000 : false,
    refetchIntervalInBackground: false,
  };
}
