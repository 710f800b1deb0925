import { useEffect, useState } from 'react';

export type Route =
  | { screen: 'chat'; conversationId?: string }
  | { screen: 'paint' }
  | { screen: 'credits' }
  | { screen: 'sessions' };

function parseRoute(hash: string): Route {
  const [screen, id] = hash.replace(/^#\/?/, '').split('/');
  switch (screen) {
    case 'paint':
      return { screen: 'paint' };
    case 'credits':
      return { screen: 'credits' };
    case 'sessions':
      return { screen: 'sessions' };
    default:
      return id ? { screen: 'chat', conversationId: decodeURIComponent(id) } : { screen: 'chat' };
  }
}

export function hrefOf(route: Route): string {
  return route.screen === 'chat' && route.conversationId ? `#/chat/${encodeURIComponent(route.conversationId)}` : `#/${route.screen}`;
}

export function navigate(route: Route) {
  window.location.hash = hrefOf(route);
}

/** Hash routing: no router library for five screens, and deep links work from a static file server. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
