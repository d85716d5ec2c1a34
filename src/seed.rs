//! `adal seed-demo`: the demonstration registry of the story Adal grew from — a city's internal
//! policy department and its youth resource centre ran 28 anti-corruption events from January to
//! August 2024, reaching about 1,800 people, while the legal-support subdivision warned that other
//! departments' work was not controlled — and the eight months of 2023 before it, after which
//! department heads were warned, with the same departments holding nothing in both years. People's
//! names and IINs are invented (the IINs pass the checksum, and are kept only as keyed hashes).

use anyhow::{Context, bail};
use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::accounts::model::AccountResponse;
use crate::accounts::store::{self as accounts, NewAccount};
use crate::attendees::iin::{Iin, Sex, control_digit};
use crate::attendees::model::Gender;
use crate::attendees::store::{self as attendees, NewRow};
use crate::audit::{self, Actor};
use crate::auth::{Role, password};
use crate::config::Secret;
use crate::departments::model::DepartmentResponse;
use crate::departments::store::{self as departments, NewDepartment};
use crate::error::ApiError;
use crate::events::model::{
    Attendance, AttendanceBasis, Audience, BreakdownItem, EventFormat, EventKind, EventStatus, Organiser, OrganiserRole,
};
use crate::events::store::{self as events, EventData};
use crate::plans::store::{self as plans, ItemData};
use crate::store::schema::events as e;
use crate::store::{self, DbConnection};
use crate::write;

/// The seeded departments: code, Kazakh name, Russian name.
pub const DEPARTMENTS: [(&str, &str, &str); 6] = [
    ("internal-policy", "Қала әкімдігінің ішкі саясат бөлімі", "Отдел внутренней политики акимата города"),
    ("youth-centre", "Қалалық жастар ресурстық орталығы", "Городской молодёжный ресурсный центр"),
    (
        "legal-support",
        "Құқық қорғау органдарымен жұмыс және құқықтық қамтамасыз ету бөлімшесі",
        "Подотдел по работе с правоохранительными органами и правового обеспечения",
    ),
    ("education", "Қалалық білім бөлімі", "Городской отдел образования"),
    ("culture", "Мәдениет және тілдерді дамыту бөлімі", "Отдел культуры и развития языков"),
    ("sport", "Дене шынықтыру және спорт бөлімі", "Отдел физической культуры и спорта"),
];

/// The administrations above the story's departments: the region, the story's city within it, and
/// a second city beside it (so a regional roll-up has two cities to add up): code, Kazakh name,
/// Russian name, English name, parent's code.
pub const ADMINISTRATIONS: [(&str, &str, &str, &str, Option<&str>); 3] = [
    ("region", "Облыс әкімдігі", "Акимат области", "Regional akimat", None),
    ("city", "Қала әкімдігі", "Акимат города", "City akimat", Some("region")),
    ("second-city", "Екінші қала әкімдігі", "Акимат второго города", "Second city akimat", Some("region")),
];

/// The second city's youth centre, with the events it held in 2024: day and attendance total.
const SECOND_CITY_YOUTH: (&str, &str, &str) =
    ("second-city-youth", "Екінші қаланың жастар орталығы", "Молодёжный центр второго города");
const SECOND_CITY_EVENTS: [((u32, u32), i32); 6] =
    [((2, 20), 40), ((3, 19), 35), ((4, 23), 52), ((5, 21), 44), ((6, 18), 38), ((7, 16), 47)];

/// Each event's attendance total: 28 events, 1,801 people in all.
pub const TOTALS: [i32; 28] =
    [58, 64, 71, 45, 80, 62, 55, 70, 66, 48, 90, 73, 60, 52, 68, 75, 59, 63, 47, 85, 61, 69, 54, 72, 50, 66, 58, 80];

/// Days of 2024 the events were held on, January to August.
const DAYS: [(u32, u32); 28] = [
    (1, 18),
    (1, 25),
    (1, 30),
    (2, 8),
    (2, 15),
    (2, 27),
    (3, 5),
    (3, 14),
    (3, 21),
    (3, 28),
    (4, 4),
    (4, 11),
    (4, 18),
    (4, 25),
    (5, 2),
    (5, 16),
    (5, 23),
    (5, 30),
    (6, 6),
    (6, 13),
    (6, 27),
    (7, 4),
    (7, 18),
    (7, 25),
    (8, 1),
    (8, 8),
    (8, 15),
    (8, 22),
];

/// 2023's events over the same eight months, before the heads of department were warned: the
/// youth centre's work, comparable in size (24 events, 1,423 people).
pub const TOTALS_2023: [i32; 24] =
    [52, 60, 66, 41, 74, 58, 50, 63, 61, 44, 82, 69, 55, 48, 62, 70, 54, 57, 43, 78, 56, 64, 49, 67];

const DAYS_2023: [(u32, u32); 24] = [
    (1, 19),
    (1, 26),
    (2, 2),
    (2, 9),
    (2, 16),
    (2, 28),
    (3, 2),
    (3, 16),
    (3, 23),
    (3, 30),
    (4, 6),
    (4, 13),
    (4, 27),
    (5, 4),
    (5, 18),
    (5, 25),
    (6, 1),
    (6, 15),
    (6, 29),
    (7, 6),
    (7, 20),
    (8, 3),
    (8, 17),
    (8, 24),
];

/// Invented attendees: given names (with the sex their IIN records) and family names, combined
/// into forty people.
const GIVEN: [(&str, Sex); 10] = [
    ("Айдана", Sex::Female),
    ("Әлібек", Sex::Male),
    ("Гүлжан", Sex::Female),
    ("Дәурен", Sex::Male),
    ("Жансая", Sex::Female),
    ("Ернұр", Sex::Male),
    ("Мадина", Sex::Female),
    ("Нұрсұлтан", Sex::Male),
    ("Томирис", Sex::Female),
    ("Санжар", Sex::Male),
];
const FAMILY: [(&str, &str); 4] =
    [("Қасымов", "Қасымова"), ("Серікбаев", "Серікбаева"), ("Төлеуов", "Төлеуова"), ("Жұмабеков", "Жұмабекова")];
const PEOPLE: usize = GIVEN.len() * FAMILY.len();
/// Named attendees on each event that keeps a list: a window of the forty, so the same people come
/// to several events.
const LISTED: usize = 12;

const THEMES: [(&str, EventKind); 7] = [
    ("Сыбайлас жемқорлыққа қарсы мәдениет: дөңгелек үстел", EventKind::RoundTable),
    ("«Адалдық сағаты» дәрісі", EventKind::Lecture),
    ("Жастар және адалдық: пікірсайыс", EventKind::Seminar),
    ("«Адал жастар» ақпараттық науқаны", EventKind::Campaign),
    ("Мемлекеттік қызметтегі әдеп: тренинг", EventKind::Training),
    ("«Жемқорлыққа жол жоқ» эссе байқауы", EventKind::Contest),
    ("Ата-аналармен кездесу: адал болашақ", EventKind::Meeting),
];

const SPEAKERS: [&str; 4] = ["Айгүл Сейітқызы", "Ерлан Жақсылықов", "Дана Мұратқызы", "Нұрлан Әбдіқадыров"];

fn api(e: ApiError) -> anyhow::Error {
    match e {
        ApiError::Internal(inner) => inner,
        other => anyhow::anyhow!("{}", other.to_problem().detail),
    }
}

/// One demo account: username, role and the password printed once.
pub struct DemoAccount {
    pub username: String,
    pub role: Role,
    pub password: String,
}

/// Loads the demonstration registry; refuses when the registry already holds events.
pub fn seed_demo(conn: &mut DbConnection, tz: Tz, iin_key: &Secret) -> anyhow::Result<Vec<DemoAccount>> {
    let existing: i64 = e::table.count().get_result(conn)?;
    if existing > 0 {
        bail!("the registry already holds {existing} events; seed-demo loads only an empty registry");
    }
    let roles = [
        ("demo-admin", Role::Admin, "internal-policy"),
        ("demo-coordinator", Role::Coordinator, "internal-policy"),
        ("demo-organiser", Role::Organiser, "youth-centre"),
        ("demo-viewer", Role::Viewer, "legal-support"),
        // The policy department partners in every demo event, so it may not check its own: the
        // legal-support subdivision verifies them.
        ("demo-verifier", Role::Coordinator, "legal-support"),
    ];
    // Hash before the transaction, so the write lock is not held for Argon2's time.
    let mut people = Vec::new();
    for (username, role, dept) in roles {
        let secret = password::generate();
        let hash = password::hash(&secret).map_err(api)?;
        people.push((DemoAccount { username: username.into(), role, password: secret }, hash, dept));
    }
    let actor = Actor::system();
    write::transaction(conn, &actor, "", |tx| -> Result<(), ApiError> {
        let mut ids = std::collections::HashMap::new();
        // The region, its two cities, the story's departments under the first city, and the
        // second city's youth centre.
        let mut tree: Vec<NewDepartment> = ADMINISTRATIONS
            .iter()
            .map(|&(code, kk, ru, en, parent)| NewDepartment {
                kind: "administration",
                name_en: Some(en),
                ..NewDepartment::unit(code, kk, ru, parent)
            })
            .collect();
        tree.extend(DEPARTMENTS.iter().map(|&(code, kk, ru)| NewDepartment::unit(code, kk, ru, Some("city"))));
        let (code, kk, ru) = SECOND_CITY_YOUTH;
        tree.push(NewDepartment::unit(code, kk, ru, Some("second-city")));
        for new in tree {
            let row = match departments::find_by_code(tx.conn(), new.code)? {
                Some(row) => row,
                None => {
                    let parent = new.parent_id.and_then(|p| ids.get(p).cloned());
                    let row = departments::insert(tx.conn(), &NewDepartment { parent_id: parent.as_deref(), ..new })?;
                    let d = DepartmentResponse::from(row.clone());
                    tx.audit("department.create", "department", Some(&d.id), audit::changes(None::<&Value>, Some(&d)))?;
                    row
                }
            };
            ids.insert(new.code, row.id);
        }
        let dept = |code: &str| ids.get(code).cloned().unwrap_or_default();
        for (account, hash, code) in &people {
            let row = accounts::insert(
                tx.conn(),
                &NewAccount {
                    username: &account.username,
                    display_name: &account.username,
                    department_id: &dept(code),
                    role: account.role.as_str(),
                    password_hash: hash,
                },
            )?;
            let a = AccountResponse::from(row);
            tx.audit("account.create", "account", Some(&a.id), audit::changes(None::<&Value>, Some(&a)))?;
        }
        let plan = plans::insert_plan(
            tx.conn(),
            2024,
            "2024 жылға арналған сыбайлас жемқорлыққа қарсы іс-шаралар жоспары",
            &dept("internal-policy"),
        )?;
        tx.audit("plan.create", "plan", Some(&plan.id), json!({"year": {"from": null, "to": 2024}}))?;
        let date = |m, d| NaiveDate::from_ymd_opt(2024, m, d).expect("a 2024 date");
        let item_specs = [
            (
                "1.1",
                "Жастар арасында сыбайлас жемқорлыққа қарсы дәрістер мен семинарлар өткізу",
                "youth-centre",
                date(12, 31),
                10,
                600,
            ),
            ("1.2", "Дөңгелек үстелдер мен кездесулер ұйымдастыру", "internal-policy", date(6, 30), 6, 350),
            ("1.3", "Мемлекеттік қызметшілерге арналған әдеп тренингтері", "legal-support", date(9, 30), 4, 120),
            ("2.1", "«Адал жастар» ақпараттық науқаны мен байқаулар", "youth-centre", date(12, 31), 6, 400),
            // The departments the legal-support subdivision warned about: lines of their own, due
            // within the eight months, with nothing held.
            ("3.1", "Мектептерде адалдық сабақтарын өткізу", "education", date(5, 31), 4, 200),
            ("3.2", "Мәдениет ұйымдарында сыбайлас жемқорлыққа қарсы кездесулер", "culture", date(6, 30), 2, 80),
            ("3.3", "Спорт ұйымдарында әдеп нормалары бойынша семинарлар", "sport", date(6, 30), 2, 60),
        ];
        let mut items = std::collections::HashMap::new();
        for (number, title, code, due, target_events, target_participants) in item_specs {
            let row = plans::insert_item(
                tx.conn(),
                &plan.id,
                &ItemData {
                    number,
                    title,
                    responsible_department_id: &dept(code),
                    due_date: due,
                    target_events,
                    target_participants,
                },
            )?;
            tx.audit("plan_item.create", "plan_item", Some(&row.id), json!({"number": {"from": null, "to": number}}))?;
            items.insert(number, row.id);
        }
        let youth = dept("youth-centre");
        let partners = vec![dept("internal-policy")];
        let people = demo_people(iin_key);
        let year = |year, days: &[(u32, u32)], totals: &[i32]| -> Vec<Demo> {
            days.iter()
                .zip(totals)
                .map(|(&(m, d), &total)| Demo { day: NaiveDate::from_ymd_opt(year, m, d).expect("a demo date"), total })
                .collect()
        };
        // 2023 first, linked to no plan item (the plan is 2024's); then 2024, on its plan.
        for (events, linked) in [(year(2023, &DAYS_2023, &TOTALS_2023), false), (year(2024, &DAYS, &TOTALS), true)] {
            for (i, demo) in events.into_iter().enumerate() {
                let (title, kind) = THEMES[i % THEMES.len()];
                // Only items whose responsible department takes part (the youth centre leads, the
                // policy department partners): the legal-support subdivision's trainings (1.3) and
                // the warned departments' lines (3.x) get no events of theirs, which is the
                // story's point.
                let item = match kind {
                    EventKind::Lecture | EventKind::Seminar => Some("1.1"),
                    EventKind::RoundTable | EventKind::Meeting => Some("1.2"),
                    EventKind::Training => None,
                    _ => Some("2.1"),
                };
                let plan_item_id = if linked { item.and_then(|i| items.get(i)).map(String::as_str) } else { None };
                let id = seed_event(tx.conn(), tz, i, demo, title, kind, &youth, &partners, plan_item_id)?;
                let event = events::find(tx.conn(), &id)?.ok_or(ApiError::NotFound)?;
                tx.audit("event.create", "event", Some(&id), audit::changes(None::<&Value>, Some(&event)))?;
                // Every third event keeps its sign-in sheet's names, where it has one.
                if i.is_multiple_of(3) && on_sign_in_sheet(i) {
                    let start = (i * 7) % PEOPLE;
                    let rows: Vec<NewRow> = (0..LISTED).map(|k| people[(start + k) % PEOPLE].row()).collect();
                    attendees::insert(tx.conn(), &id, &rows, store::now())?;
                    let changes = json!({"added": rows.len(), "attendees": {"from": 0, "to": rows.len()}});
                    tx.audit("attendees.add", "event", Some(&id), audit::details(changes))?;
                }
            }
        }
        // The second city's youth centre, on its own: some of its people also came to the first
        // city's events, so the region counts them once.
        let second = dept(SECOND_CITY_YOUTH.0);
        for (i, ((m, d), total)) in SECOND_CITY_EVENTS.into_iter().enumerate() {
            let demo = Demo { day: NaiveDate::from_ymd_opt(2024, m, d).expect("a demo date"), total };
            let (title, kind) = THEMES[(i + 3) % THEMES.len()];
            let id = seed_event(tx.conn(), tz, i, demo, title, kind, &second, &[], None)?;
            let event = events::find(tx.conn(), &id)?.ok_or(ApiError::NotFound)?;
            tx.audit("event.create", "event", Some(&id), audit::changes(None::<&Value>, Some(&event)))?;
            if on_sign_in_sheet(i) {
                let rows: Vec<NewRow> = (0..LISTED).map(|k| people[(i * 5 + k) % PEOPLE].row()).collect();
                attendees::insert(tx.conn(), &id, &rows, store::now())?;
                let changes = json!({"added": rows.len(), "attendees": {"from": 0, "to": rows.len()}});
                tx.audit("attendees.add", "event", Some(&id), audit::details(changes))?;
            }
        }
        Ok(())
    })
    .map_err(api)
    .context("seeding the demonstration registry")?;
    Ok(people.into_iter().map(|(a, _, _)| a).collect())
}

/// Whether the `i`-th event of a demo year counted its people on a sign-in sheet (the others by
/// headcount): only such an event can keep the sheet's names.
fn on_sign_in_sheet(i: usize) -> bool {
    i % 4 != 3
}

/// One demo event's day and attendance total.
struct Demo {
    day: NaiveDate,
    total: i32,
}

/// Writes the `i`-th event of a demo year: its theme's kind, 15:00 local, led by the youth centre
/// with the policy department as partner, its attendance broken down by audience — exactly the
/// total on a sign-in sheet, part of it by headcount — and checked by the API's own rule.
#[allow(clippy::too_many_arguments)]
fn seed_event(
    conn: &mut DbConnection,
    tz: Tz,
    i: usize,
    demo: Demo,
    title: &str,
    kind: EventKind,
    lead: &str,
    partners: &[String],
    plan_item_id: Option<&str>,
) -> Result<String, ApiError> {
    let local = tz
        .from_local_datetime(&demo.day.and_hms_opt(15, 0, 0).expect("15:00"))
        .single()
        .expect("15:00 is never skipped in Almaty");
    let starts = local.with_timezone(&Utc).naive_utc();
    let ends = starts + chrono::Duration::hours(if kind == EventKind::Campaign { 24 * 7 } else { 2 });
    let other = if i.is_multiple_of(3) { Audience::Schoolchildren } else { Audience::Students };
    let audiences = vec![Audience::Youth, other];
    let organisers = vec![Organiser {
        full_name: SPEAKERS[i % SPEAKERS.len()].to_string(),
        role: if i.is_multiple_of(2) { OrganiserRole::Speaker } else { OrganiserRole::Moderator },
        organisation: Some("Қалалық жастар ресурстық орталығы".into()),
    }];
    let total = demo.total;
    let youth_count = total * 3 / 5;
    let sheet = on_sign_in_sheet(i);
    let mut breakdown = vec![BreakdownItem { audience: Audience::Youth, count: youth_count }];
    if sheet {
        // A sign-in sheet names everyone's group, so its breakdown adds up to the total.
        breakdown.push(BreakdownItem { audience: other, count: total - youth_count });
    }
    let attendance = Attendance {
        total,
        basis: if sheet { AttendanceBasis::SignInSheet } else { AttendanceBasis::Headcount },
        breakdown,
    };
    let errors = attendance.check("attendance");
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let title = format!("{title} №{}", i + 1);
    let data = EventData {
        title: &title,
        description: "Қала әкімдігінің ішкі саясат бөлімі мен қалалық жастар ресурстық орталығының бірлескен іс-шарасы",
        kind,
        format: EventFormat::InPerson,
        starts_at: starts,
        ends_at: ends,
        venue: Some("Қалалық жастар ресурстық орталығы"),
        audiences: &audiences,
        lead_department_id: lead,
        partner_department_ids: partners,
        plan_item_id,
        organisers: &organisers,
        planned_participants: Some(60),
        status: EventStatus::Held,
    };
    let id = store::new_id();
    events::insert(conn, &id, &data, Some(&attendance), "seed-demo", store::now())?;
    Ok(id)
}

/// An invented attendee, with the IIN they would write on a sign-in sheet.
struct Person {
    full_name: String,
    iin: Iin,
    hash: String,
}

impl Person {
    /// The row the API writes for them: the IIN's keyed hash and last two digits, never the IIN.
    fn row(&self) -> NewRow {
        NewRow {
            id: store::new_id(),
            full_name: self.full_name.clone(),
            iin_hash: Some(self.hash.clone()),
            iin_last2: Some(self.iin.last2()),
            birth_year: Some(self.iin.birth_year()),
            gender: Some(match self.iin.sex() {
                Sex::Male => Gender::Male,
                Sex::Female => Gender::Female,
            }),
            organisation: Some("Қалалық жастар ресурстық орталығы".into()),
        }
    }
}

/// The forty demo people: born 1998–2007, each IIN made with its control digit (a serial whose
/// control digit does not exist is skipped, as the algorithm requires).
fn demo_people(key: &Secret) -> Vec<Person> {
    let mut out = Vec::with_capacity(PEOPLE);
    for (f, (male, female)) in FAMILY.iter().enumerate() {
        for (g, (given, sex)) in GIVEN.iter().enumerate() {
            let n = f * GIVEN.len() + g;
            let year = 1998 + (n % 10) as i32;
            let (month, day) = (1 + (n % 12) as u32, 1 + (n * 3 % 28) as u32);
            // The seventh digit: the century and the sex (3/4 for the 1900s, 5/6 for the 2000s).
            let century = match (year >= 2000, sex) {
                (false, Sex::Male) => 3,
                (false, Sex::Female) => 4,
                (true, Sex::Male) => 5,
                (true, Sex::Female) => 6,
            };
            let iin = (1..10_000)
                .find_map(|serial| {
                    let first = format!("{:02}{month:02}{day:02}{century}{serial:04}", year % 100);
                    let digits: Vec<u8> = first.bytes().map(|b| b - b'0').collect();
                    control_digit(&digits).and_then(|c| Iin::parse(&format!("{first}{c}")).ok())
                })
                .expect("a serial with a control digit");
            let family = if *sex == Sex::Male { male } else { female };
            out.push(Person { full_name: format!("{given} {family}"), hash: iin.hash(key), iin });
        }
    }
    out
}
