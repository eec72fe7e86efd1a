import { t } from '../i18n/index.js';
import type { LinkState } from '../live.js';

/** Shown whenever what is on screen may not be live; role=alert so a screen reader says it too. */
export function LinkBanner({ link, controllerDown = false }: { link: LinkState; controllerDown?: boolean }) {
  if (link === 'up' && !controllerDown) return null;
  const text =
    link === 'down'
      ? t('link.lost')
      : link === 'connecting'
        ? t('link.connecting')
        : t('link.controllerDown');
  return (
    <div class="link-banner" role="alert" data-testid="link-banner">
      {text}
    </div>
  );
}
