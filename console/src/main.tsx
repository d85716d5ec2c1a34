import { render } from 'preact';
import { App } from './app';
import { setLang, storedLang } from './i18n';
import './styles.css';

setLang(storedLang());
render(<App />, document.getElementById('app') as HTMLElement);

// The service worker keeps the shell for offline use; registered from here, never inline.
if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  void navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
}
