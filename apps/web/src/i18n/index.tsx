import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { en, zh, type Messages } from './messages.ts';

export type Locale = 'en' | 'zh';
const STORAGE_KEY = 'firefly.locale';
const catalogs: Record<Locale, Messages> = { en, zh };

/** The browser's preferred language decides, unless the person picked one: Chinese for any zh-*, else English. */
function detectLocale(languages: readonly string[], stored: string | null): Locale {
  if (stored === 'en' || stored === 'zh') return stored;
  for (const language of languages) {
    const tag = language.toLowerCase();
    if (tag.startsWith('zh')) return 'zh';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}

interface I18n {
  locale: Locale;
  t: Messages;
  setLocale(locale: Locale): void;
  formatDate(iso: string): string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() => detectLocale(navigator.languages ?? [navigator.language], localStorage.getItem(STORAGE_KEY)));
  useEffect(() => {
    document.documentElement.lang = locale === 'zh' ? 'zh-CN' : 'en';
    document.title = locale === 'zh' ? '萤火AI' : 'Firefly AI';
  }, [locale]);
  const setLocale = useCallback((next: Locale) => {
    localStorage.setItem(STORAGE_KEY, next);
    setLocaleState(next);
  }, []);
  const value = useMemo<I18n>(() => {
    const dates = new Intl.DateTimeFormat(locale === 'zh' ? 'zh-CN' : 'en', { dateStyle: 'medium', timeStyle: 'short' });
    return { locale, t: catalogs[locale], setLocale, formatDate: (iso) => dates.format(new Date(iso)) };
  }, [locale, setLocale]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}
