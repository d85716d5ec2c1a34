//! The words of the exports for people, in Kazakh, Russian and English: column headers, section
//! and sheet names, report titles and the enum values. Enum values are the console's own words
//! (`console/src/i18n/*.json`, `enum.*`), so a file and the screen say the same thing; a test
//! below holds them equal.

/// A language of the exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Kk,
    Ru,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The first of kk, ru and en that an `Accept-Language` header accepts, by its `q` weights
    /// (RFC 9110 §12.5.4; `kk-KZ` counts as `kk`); Kazakh, the registry's own language, when it
    /// names none of them.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, usize, Lang)> = None;
        for (position, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok()))
                .next()
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let Some(lang) = Lang::ALL.into_iter().find(|l| l.code() == primary) else { continue };
            if q <= 0.0 {
                continue;
            }
            // Higher weight first; among equal weights, the one listed first.
            if best.is_none_or(|(bq, bp, _)| q > bq || (q == bq && position < bp)) {
                best = Some((q, position, lang));
            }
        }
        best.map(|(_, _, l)| l).unwrap_or(Lang::Kk)
    }
}

crate::events::model::wire_enum!(
    /// The language of an export for people: `kk`, `ru`, `en`, or `auto` (from `Accept-Language`).
    LangParam { Kk = "kk", Ru = "ru", En = "en", Auto = "auto" }
);

/// Every word, keyed `group.key`: `[kk, ru, en]`.
const WORDS: &[(&str, [&str; 3])] = &[
    // Enum values: the console's words.
    ("kind.lecture", ["Дәріс", "Лекция", "Lecture"]),
    ("kind.seminar", ["Семинар", "Семинар", "Seminar"]),
    ("kind.round_table", ["Дөңгелек үстел", "Круглый стол", "Round table"]),
    ("kind.training", ["Тренинг", "Тренинг", "Training"]),
    ("kind.meeting", ["Кездесу", "Встреча", "Meeting"]),
    ("kind.contest", ["Байқау", "Конкурс", "Contest"]),
    ("kind.campaign", ["Акция", "Акция", "Campaign"]),
    ("kind.other", ["Басқа", "Другое", "Other"]),
    ("audience.youth", ["Жастар", "Молодёжь", "Youth"]),
    ("audience.schoolchildren", ["Оқушылар", "Школьники", "Schoolchildren"]),
    ("audience.students", ["Студенттер", "Студенты", "Students"]),
    ("audience.civil_servants", ["Мемлекеттік қызметшілер", "Госслужащие", "Civil servants"]),
    ("audience.entrepreneurs", ["Кәсіпкерлер", "Предприниматели", "Entrepreneurs"]),
    ("audience.general_public", ["Тұрғындар", "Население", "General public"]),
    ("basis.sign_in_sheet", ["Тіркеу парағы", "Лист регистрации", "Sign-in sheet"]),
    ("basis.headcount", ["Орында санау", "Подсчёт на месте", "Headcount"]),
    ("basis.estimate", ["Шамамен бағалау", "Оценка", "Estimate"]),
    ("item_status.done", ["Орындалды", "Выполнено", "Done"]),
    ("item_status.open", ["Орындалуда", "В работе", "Open"]),
    ("item_status.overdue", ["Мерзімі өтті", "Просрочено", "Overdue"]),
    // The summary's sections (and its sheets).
    ("section.total", ["Жалпы", "Итого", "Total"]),
    ("section.department", ["Бөлімдер", "Подразделения", "Departments"]),
    ("section.kind", ["Іс-шара түрлері", "Виды мероприятий", "Kinds of event"]),
    ("section.audience", ["Аудиториялар", "Аудитории", "Audiences"]),
    ("section.month", ["Айлар", "Месяцы", "Months"]),
    ("section.basis", ["Сан қалай алынды", "Как получено число", "How the number was obtained"]),
    ("section.verified", ["Тексерілгені", "Проверено", "Verified"]),
    ("section.flagged", ["Белгіленгені", "Отмечено", "Flagged"]),
    // The figures of the total section.
    ("figure.held", ["Өткізілген іс-шаралар", "Проведённые мероприятия", "Events held"]),
    ("figure.events_held", ["Өткізілген іс-шаралар", "Проведённые мероприятия", "Events held"]),
    ("figure.participants_total", ["Қатысушылар", "Участники", "Participants"]),
    ("figure.events_planned", ["Жоспарланған іс-шаралар", "Запланированные мероприятия", "Events planned"]),
    ("figure.events_cancelled", ["Тоқтатылған іс-шаралар", "Отменено мероприятий", "Events cancelled"]),
    ("figure.unique_people", ["Қамтылған бірегей адамдар", "Уникальных людей охвачено", "Unique people reached"]),
    ("figure.events_verified", ["Тексерілген іс-шаралар", "Проверенные мероприятия", "Events verified"]),
    ("figure.participants_verified", ["Тексерілген қатысушылар", "Проверенные участники", "Participants verified"]),
    ("figure.events_flagged", ["Белгіленген іс-шаралар", "Отмеченные мероприятия", "Events flagged"]),
    ("figure.from", ["Кезең басы", "Начало периода", "From"]),
    ("figure.to", ["Кезең соңы", "Конец периода", "To"]),
    // Column headers.
    ("header.section", ["Бөлік", "Раздел", "Section"]),
    ("header.key", ["Көрсеткіш", "Показатель", "Item"]),
    ("header.figure", ["Көрсеткіш", "Показатель", "Figure"]),
    ("header.value", ["Мәні", "Значение", "Value"]),
    ("header.events_held", ["Өткізілген іс-шаралар", "Проведено мероприятий", "Events held"]),
    ("header.events_partnered", ["Серіктес ретінде", "В качестве партнёра", "As partner"]),
    ("header.participants_total", ["Қатысушылар", "Участников", "Participants"]),
    ("header.events_verified", ["Тексерілген іс-шаралар", "Проверено мероприятий", "Events verified"]),
    ("header.participants_verified", ["Тексерілген қатысушылар", "Проверено участников", "Participants verified"]),
    ("header.events_flagged", ["Белгіленген іс-шаралар", "Отмечено мероприятий", "Events flagged"]),
    ("header.participants_counted", ["Аудиториядан қатысқандар", "Участников из аудитории", "Participants counted"]),
    ("header.department", ["Бөлім", "Подразделение", "Department"]),
    ("header.code", ["Код", "Код", "Code"]),
    ("header.kind", ["Түрі", "Вид", "Kind"]),
    ("header.audience", ["Аудитория", "Аудитория", "Audience"]),
    ("header.month", ["Ай", "Месяц", "Month"]),
    ("header.basis", ["Сан қалай алынды", "Как получено число", "How the number was obtained"]),
    ("header.number", ["№", "№", "No."]),
    ("header.title", ["Тармақ", "Пункт", "Item"]),
    ("header.responsible_department", ["Жауапты бөлім", "Ответственное подразделение", "Responsible department"]),
    ("header.due_date", ["Мерзімі", "Срок", "Due date"]),
    ("header.target_events", ["Мақсат: іс-шаралар", "Цель: мероприятий", "Target events"]),
    ("header.target_participants", ["Мақсат: қатысушылар", "Цель: участников", "Target participants"]),
    ("header.status", ["Мәртебесі", "Статус", "Status"]),
    ("header.plan_items_due", ["Мерзімі келген тармақтар", "Пунктов плана со сроком", "Plan items due"]),
    ("header.plan_items_done", ["Орындалған тармақтар", "Выполнено пунктов", "Plan items done"]),
    ("header.plan_items_overdue", ["Мерзімі өткен тармақтар", "Просрочено пунктов", "Plan items overdue"]),
    ("header.level", ["Деңгейі", "Уровень", "Level"]),
    ("header.path", ["Құрылымдағы орны", "Место в структуре", "Place in the structure"]),
    ("header.unique_people", ["Бірегей адамдар", "Уникальных людей", "Unique people"]),
    ("header.last_held_at", ["Соңғы іс-шара", "Последнее мероприятие", "Last event held"]),
    ("header.items", ["Тармақтар", "Пунктов", "Items"]),
    ("header.done", ["Орындалды", "Выполнено", "Done"]),
    ("header.open", ["Орындалуда", "В работе", "Open"]),
    ("header.overdue", ["Мерзімі өтті", "Просрочено", "Overdue"]),
    // Sheets of the other reports.
    ("sheet.items", ["Тармақтар", "Пункты", "Items"]),
    ("sheet.totals", ["Қорытынды", "Итоги", "Totals"]),
    ("sheet.departments", ["Бөлімдер", "Подразделения", "Departments"]),
    // Titles and the comparison.
    ("report.summary", ["Іс-шаралар жиынтығы", "Сводка мероприятий", "Summary of events"]),
    ("report.plan-fulfilment", ["Жоспардың орындалуы", "Выполнение плана", "Plan fulfilment"]),
    ("report.departments", ["Бөлімдердің жұмысы", "Работа подразделений", "Departments' activity"]),
    ("compare.previous", ["салыстыру кезеңі", "период сравнения", "compared period"]),
    ("compare.with", ["салыстыру кезеңі", "период сравнения", "compared with"]),
];

/// The word for `group.key` in `lang`, if there is one.
pub fn word(lang: Lang, group: &str, key: &str) -> Option<&'static str> {
    WORDS
        .iter()
        .find(|(k, _)| k.len() == group.len() + 1 + key.len() && k.starts_with(group) && k.ends_with(key))
        .filter(|(k, _)| k.as_bytes()[group.len()] == b'.')
        .map(|(_, w)| w[lang.index()])
}

/// The word for `group.key`, or `key` itself without a language (the machines' file) or when the
/// table has none.
pub fn say(lang: Option<Lang>, group: &str, key: &'static str) -> &'static str {
    lang.and_then(|l| word(l, group, key)).unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::model::{AttendanceBasis, Audience, EventKind};

    /// One of the console's message files in `lang`, given its Kazakh, Russian and English texts.
    fn messages(lang: Lang, [kk, ru, en]: [&str; 3]) -> serde_json::Value {
        let text = match lang {
            Lang::Kk => kk,
            Lang::Ru => ru,
            Lang::En => en,
        };
        serde_json::from_str(text).expect("the console's messages are JSON")
    }

    fn console(lang: Lang) -> serde_json::Value {
        let texts = [
            include_str!("../../console/src/i18n/kk.json"),
            include_str!("../../console/src/i18n/ru.json"),
            include_str!("../../console/src/i18n/en.json"),
        ];
        messages(lang, texts)
    }

    fn dashboard(lang: Lang) -> serde_json::Value {
        let texts = [
            include_str!("../../console/src/i18n/dashboard/kk.json"),
            include_str!("../../console/src/i18n/dashboard/ru.json"),
            include_str!("../../console/src/i18n/dashboard/en.json"),
        ];
        messages(lang, texts)
    }

    #[test]
    fn the_cancelled_and_unique_figures_say_the_dashboards_words() {
        for lang in Lang::ALL {
            let messages = dashboard(lang);
            for figure in ["events_cancelled", "unique_people"] {
                let theirs = messages[format!("dashboard.figure.{figure}")].as_str();
                assert_eq!(
                    word(lang, "figure", figure),
                    theirs,
                    "{}: {figure} differs from the dashboard",
                    lang.code()
                );
            }
        }
    }

    fn enum_values() -> Vec<(&'static str, &'static str)> {
        let mut all = Vec::new();
        all.extend(EventKind::ALL.iter().map(|k| ("kind", k.as_str())));
        all.extend(Audience::ALL.iter().map(|a| ("audience", a.as_str())));
        all.extend(AttendanceBasis::ALL.iter().map(|b| ("basis", b.as_str())));
        all.extend(["done", "open", "overdue"].map(|s| ("item_status", s)));
        all
    }

    #[test]
    fn every_enum_value_has_the_consoles_word_in_every_language() {
        for lang in Lang::ALL {
            let messages = console(lang);
            for (group, value) in enum_values() {
                let ours =
                    word(lang, group, value).unwrap_or_else(|| panic!("{}: no word for {group}.{value}", lang.code()));
                let theirs = messages[format!("enum.{group}.{value}")].as_str();
                assert_eq!(Some(ours), theirs, "{}: {group}.{value} differs from the console", lang.code());
            }
        }
    }

    #[test]
    fn every_word_is_given_in_all_three_languages_and_keys_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (key, words) in WORDS {
            assert!(seen.insert(*key), "{key} twice");
            assert!(words.iter().all(|w| !w.trim().is_empty()), "{key} lacks a word");
        }
        for section in ["total", "department", "kind", "audience", "month", "basis", "verified", "flagged"] {
            for lang in Lang::ALL {
                let name = word(lang, "section", section).unwrap();
                // Excel's rules for a sheet name.
                assert!(name.chars().count() <= 31 && !name.contains(['[', ']', ':', '*', '?', '/', '\\']), "{name}");
            }
        }
    }

    #[test]
    fn accept_language_picks_the_best_weighted_language_we_have() {
        assert_eq!(Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"), Lang::Ru);
        assert_eq!(Lang::from_accept_language("de, en;q=0.5, kk;q=0.7"), Lang::Kk);
        assert_eq!(Lang::from_accept_language("en-GB;q=0.9, ru;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language("ru;q=0, en;q=0.1"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr"), Lang::Kk);
        assert_eq!(Lang::from_accept_language(""), Lang::Kk);
    }

    #[test]
    fn a_word_is_found_by_its_whole_key_only() {
        assert_eq!(word(Lang::Ru, "kind", "round_table"), Some("Круглый стол"));
        assert_eq!(word(Lang::Ru, "kin", "d.round_table"), None);
        assert_eq!(say(None, "kind", "round_table"), "round_table");
    }
}
