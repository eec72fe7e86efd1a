/**
 * Each admin page is its own chunk, fetched when it is opened: the admin page's first download
 * stays within the dashboard's budget (the build prints it) however many pages it grows.
 */
import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Actor } from '../api.js';
import { t } from '../i18n/index.js';
import type { AdminPage } from './adminApi.js';

export interface PageProps {
  page: AdminPage;
  actor: Actor;
  firstRun: boolean;
  onChanged: () => void;
  onGo: (p: AdminPage) => void;
}

type Page = FunctionComponent<PageProps>;

const LOADERS: Record<AdminPage, () => Promise<Page>> = {
  users: async () => {
    const { UsersPage } = await import('./Users.js');
    return (p) => <UsersPage firstRun={p.firstRun} onChanged={p.onChanged} onGo={p.onGo} />;
  },
  stations: async () => {
    const { StationsPage } = await import('./Stations.js');
    return (p) => <StationsPage actor={p.actor} />;
  },
  programs: async () => {
    const { ProgramsPage } = await import('./Programs.js');
    return (p) => <ProgramsPage actor={p.actor} />;
  },
  history: async () => (await import('./History.js')).HistoryPage,
  audit: async () => (await import('./Audit.js')).AuditPage,
  clients: async () => (await import('./Privacy.js')).ClientsPage,
  privacy: async () => (await import('./Privacy.js')).PrivacyPage,
  notifications: async () => (await import('./Privacy.js')).NotificationsPage,
};

/** The page `props.page`, once its chunk is in (a line saying so until then). */
export function AdminPageView(props: PageProps) {
  const [loaded, setLoaded] = useState<{ page: AdminPage; View: Page } | null>(null);
  useEffect(() => {
    let gone = false;
    void LOADERS[props.page]().then((View) => {
      if (!gone) setLoaded({ page: props.page, View });
    });
    return () => {
      gone = true;
    };
  }, [props.page]);
  if (loaded === null || loaded.page !== props.page) return <p aria-busy="true">{t('admin.loadingPage')}</p>;
  return <loaded.View {...props} />;
}
