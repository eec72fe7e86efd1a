/**
 * The words of a staff notification, in the centre's language: which station, what happened, what
 * to do. A client's name appears only on channels marked internal (docs/privacy.md).
 */
import type { AlarmInfo } from '../../protocol.js';
import type { NotificationSettings, NotifyEvent } from '../../store/types.js';

export type Language = NotificationSettings['language'];

/** What happened, as the notifier hears it; `message()` turns it into words. */
export interface Notice {
  /** Unique per notice: a receiver can drop a repeat (webhook `Idempotency-Key`). */
  id: string;
  event: NotifyEvent | 'test';
  atEpochMs: number;
  stationId: string | null;
  stationName: string | null;
  alarm?: Pick<AlarmInfo, 'code' | 'priority' | 'reason' | 'zone'>;
  /** How a session ended ("completed", "stopped", …) and why. */
  end?: { status: string; reason?: string };
  /** Only ever shown on internal channels. */
  clientName?: string;
  /** controller-lost: seconds since the link dropped. */
  lostForS?: number;
}

export interface Message {
  title: string;
  text: string;
  /** For ntfy's priority and e-mail subjects: high alarms and STOPs are urgent. */
  urgent: boolean;
}

const ALARM_TITLES: Record<Language, Record<string, string>> = {
  en: {
    'over-pressure': 'Over-pressure',
    'sensor-implausible': 'Pressure sensor fault',
    'inflation-not-verified': 'A zone does not fill (leak or hose off?)',
    'compensated-leak': 'Leak in a zone',
    'vent-not-verified': 'A zone does not vent',
    'pump-dead-head': 'Pump running against closed valves',
    'session-too-long': 'Session too long',
    'emergency-stop': 'Emergency stop pressed',
    'link-lost': 'I/O link lost',
    'loop-stall': 'Control loop stalled',
    'controller-restarted': 'Controller restarted',
    'database-recovered': 'Database restored from a backup',
  },
  de: {
    'over-pressure': 'Überdruck',
    'sensor-implausible': 'Drucksensor gestört',
    'inflation-not-verified': 'Zone füllt sich nicht (Leck oder Schlauch ab?)',
    'compensated-leak': 'Leck in einer Zone',
    'vent-not-verified': 'Zone entleert sich nicht',
    'pump-dead-head': 'Pumpe läuft gegen geschlossene Ventile',
    'session-too-long': 'Sitzung zu lang',
    'emergency-stop': 'Not-Halt gedrückt',
    'link-lost': 'E/A-Verbindung verloren',
    'loop-stall': 'Regelschleife ausgesetzt',
    'controller-restarted': 'Steuerung neu gestartet',
    'database-recovered': 'Datenbank aus Sicherung wiederhergestellt',
  },
};

const END_WORDS: Record<Language, Record<string, string>> = {
  en: {
    completed: 'finished',
    stopped: 'was stopped',
    fault: 'ended on a fault',
    interrupted: 'was interrupted',
  },
  de: {
    completed: 'ist beendet',
    stopped: 'wurde gestoppt',
    fault: 'wurde wegen einer Störung beendet',
    interrupted: 'wurde unterbrochen',
  },
};

export function message(n: Notice, lang: Language, internal: boolean): Message {
  const station = n.stationName ?? n.stationId ?? (lang === 'de' ? 'alle Stationen' : 'all stations');
  const who = internal && n.clientName !== undefined ? ` (${n.clientName})` : '';
  const de = lang === 'de';
  switch (n.event) {
    case 'alarm-high':
    case 'alarm': {
      const a = n.alarm;
      const title = (a && ALARM_TITLES[lang][a.code]) ?? a?.code ?? '?';
      const zone = a?.zone !== undefined ? (de ? ` (Zone ${a.zone})` : ` (zone ${a.zone})`) : '';
      const high = a?.priority === 'high';
      return {
        urgent: high,
        title: de
          ? `${high ? 'Hoher Alarm' : 'Alarm'} an ${station}: ${title}`
          : `${high ? 'High alarm' : 'Alarm'} at ${station}: ${title}`,
        text: de
          ? `${station}${who}: ${title}${zone}. ${high ? 'Bitte sofort zur Station gehen' : 'Bitte die Station prüfen'} und den Alarm am Tablet quittieren, wenn alles sicher ist.`
          : `${station}${who}: ${title}${zone}. ${a?.reason ?? ''} ${high ? 'Go to the station now' : 'Check the station'} and acknowledge the alarm on the board once it is safe.`.replace(
              /\s+/g,
              ' ',
            ),
      };
    }
    case 'walk-up-stop':
      return {
        urgent: true,
        title: de ? `STOP an ${station} gedrückt` : `STOP pressed at ${station}`,
        text: de
          ? `Ein Gast hat an ${station} STOP gedrückt; die Station wurde entlüftet. Bitte nach der Person sehen.`
          : `A walk-up user pressed STOP at ${station}; the station vented. Please check on them.`,
      };
    case 'session-end': {
      const how = END_WORDS[lang][n.end?.status ?? 'completed'] ?? n.end?.status ?? '';
      return {
        urgent: false,
        title: de ? `Sitzung an ${station} ${how}` : `Session at ${station} ${how}`,
        text: de
          ? `Die Sitzung an ${station}${who} ${how}. Bitte beim Ablegen der Manschetten helfen.`
          : `The session at ${station}${who} ${how}. Help the client out of the garment.`,
      };
    }
    case 'controller-lost':
      return {
        urgent: true,
        title: de ? 'Steuerung nicht erreichbar' : 'Controller not reachable',
        text: de
          ? `Die Weboberfläche erreicht die Steuerung seit ${n.lostForS ?? 0} s nicht. Die Ausgänge gehen dabei in den sicheren Zustand; laufende Sitzungen können unterbrochen sein. Bitte das Gateway prüfen (Support-Seite).`
          : `The web process has not reached the controller for ${n.lostForS ?? 0} s. Outputs go to the safe state without it; sessions in progress may be interrupted. Check the gateway (support page).`,
      };
    case 'test':
      return {
        urgent: false,
        title: de ? 'Testnachricht von Presso Gateway' : 'Test message from Presso Gateway',
        text: de
          ? 'Dies ist ein Test. Wenn Sie das lesen, erreichen Sie die Benachrichtigungen.'
          : 'This is a test. If you can read it, staff notifications reach you.',
      };
  }
}
