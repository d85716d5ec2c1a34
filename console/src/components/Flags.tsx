// An event's flags and its verification as short badges (the events list, the verification
// queue), and the flags with what each means (the event page). Words, never colour alone.
import { enumLabel, t, type MessageKey } from '../i18n';
import type { Schemas } from '../api/client';

type Flag = Schemas['Flag'];
type VerificationStatus = Schemas['VerificationStatus'];

export function VerificationBadge({ status }: { status: VerificationStatus }) {
  return <span class={`badge verification ${status}`}>{enumLabel('verification', status)}</span>;
}

/** The flags as badges in a list named "Flags"; nothing when there are none. */
export function FlagBadges({ flags }: { flags: readonly Flag[] }) {
  if (!flags.length) return null;
  return (
    <ul class="flag-list" aria-label={t('flags.title')}>
      {flags.map((f) => (
        <li key={f} class="badge flag">
          {enumLabel('flag', f)}
        </li>
      ))}
    </ul>
  );
}

/** Each flag with its explanation, or a line saying there are none. */
export function FlagDetails({ flags }: { flags: readonly Flag[] }) {
  if (!flags.length) return <p class="hint">{t('flags.none')}</p>;
  return (
    <ul class="flag-details">
      {flags.map((f) => (
        <li key={f}>
          <span class="badge flag">{enumLabel('flag', f)}</span> {t(`flag.help.${f}` as MessageKey)}
        </li>
      ))}
    </ul>
  );
}
