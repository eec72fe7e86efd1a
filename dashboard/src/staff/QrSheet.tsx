import qrcode from 'qrcode-generator';
import { Modal } from '../components/Modal.js';
import { t } from '../i18n/index.js';

/** The walk-up page's address as an SVG QR code (error correction M survives a scuffed sticker). */
export function qrDataUrl(url: string): string {
  const qr = qrcode(0, 'M');
  qr.addData(url);
  qr.make();
  const svg = qr.createSvgTag({ cellSize: 6, margin: 2, scalable: true });
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

export function walkUpUrl(stationId: string): string {
  return `${location.origin}/station/${encodeURIComponent(stationId)}`;
}

/** One card per station, laid out for printing (styles.css @media print shows only this sheet). */
export function QrSheet({
  stations,
  onClose,
}: {
  stations: { id: string; name: string }[];
  onClose: () => void;
}) {
  return (
    <Modal title={t('qr.title')} wide>
      <div class="qr-sheet">
        {stations.map((s) => {
          const url = walkUpUrl(s.id);
          return (
            <figure class="qr-card" key={s.id} data-station={s.id}>
              <img src={qrDataUrl(url)} alt={url} width={220} height={220} />
              <figcaption>
                <strong>{s.name}</strong>
                <span>{t('qr.caption', { name: s.name })}</span>
                <code>{url}</code>
              </figcaption>
            </figure>
          );
        })}
      </div>
      <div class="modal-actions no-print">
        <button class="btn btn-secondary" onClick={onClose}>
          {t('qr.close')}
        </button>
        <button class="btn btn-primary" onClick={() => window.print()}>
          {t('qr.print')}
        </button>
      </div>
    </Modal>
  );
}
