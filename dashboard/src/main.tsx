/**
 * The dashboard: three surfaces, chosen by path (the web process answers index.html for each):
 * `/` staff board, `/station/:id` walk-up page, `/support` remote support, `/admin` the admin pages.
 */
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { Admin } from './admin/Admin.js';
import { StaffBoard } from './staff/StaffBoard.js';
import { Support } from './support/Support.js';
import { WalkUp } from './walkup/WalkUp.js';
import './styles.css';

function App() {
  // Changing the language re-renders everything with the new catalogue.
  const [langNonce, setLangNonce] = useState(0);
  const onLangChange = () => setLangNonce((n) => n + 1);
  const path = location.pathname;
  const station = /^\/station\/([^/]+)\/?$/.exec(path);
  if (station?.[1] !== undefined) {
    return <WalkUp key={langNonce} stationId={decodeURIComponent(station[1])} onLangChange={onLangChange} />;
  }
  if (path === '/admin' || path.startsWith('/admin/'))
    return <Admin key={langNonce} onLangChange={onLangChange} />;
  if (path.startsWith('/support')) return <Support key={langNonce} onLangChange={onLangChange} />;
  return <StaffBoard key={langNonce} onLangChange={onLangChange} />;
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
