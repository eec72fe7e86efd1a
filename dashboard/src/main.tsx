/**
 * The dashboard: four surfaces, chosen by path (the web process answers index.html for each):
 * `/` staff board, `/station/:id` walk-up page, `/support` remote support, `/admin` the admin pages.
 * Each surface is its own chunk, loaded for its path only: the wall tablet on clinic Wi-Fi and the
 * walk-up phone never download the support page's chart library or the admin pages (the build
 * lists what each page loads).
 */
import { render, type FunctionComponent } from 'preact';
import { useState } from 'preact/hooks';
import { addCatalogue } from './i18n/index.js';
import './styles.css';

type Surface = FunctionComponent<{ onLangChange: () => void }>;

async function surfaceFor(path: string): Promise<Surface> {
  const station = /^\/station\/([^/]+)\/?$/.exec(path);
  if (station?.[1] !== undefined) {
    const stationId = decodeURIComponent(station[1]);
    const { WalkUp } = await import('./walkup/WalkUp.js');
    return (props) => <WalkUp stationId={stationId} {...props} />;
  }
  if (path === '/admin' || path.startsWith('/admin/')) {
    const [{ Admin }, { adminEn }, { adminDe }] = await Promise.all([
      import('./admin/Admin.js'),
      import('./admin/i18n-en.js'),
      import('./admin/i18n-de.js'),
    ]);
    addCatalogue({ en: adminEn, de: adminDe });
    return Admin;
  }
  if (path.startsWith('/support')) return (await import('./support/Support.js')).Support;
  return (await import('./staff/StaffBoard.js')).StaffBoard;
}

function App({ Surface }: { Surface: Surface }) {
  // Changing the language re-renders everything with the new catalogue.
  const [langNonce, setLangNonce] = useState(0);
  return <Surface key={langNonce} onLangChange={() => setLangNonce((n) => n + 1)} />;
}

const root = document.getElementById('app');
if (root !== null) {
  void surfaceFor(location.pathname).then((Surface) => render(<App Surface={Surface} />, root));
}
