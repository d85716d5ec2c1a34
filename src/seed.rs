//! `adal seed-demo`: the demonstration registry of the story Adal grew from — a city's internal
//! policy department and its youth resource centre ran 28 anti-corruption events from January to
//! August 2024, reaching about 1,800 people, while the legal-support subdivision warned that other
//! departments' work was not controlled. People's names are invented.

use anyhow::{Context, bail};
use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::accounts::model::AccountResponse;
use crate::accounts::store::{self as accounts, NewAccount};
use crate::audit::{self, Actor};
use crate::auth::{Role, password};
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
pub fn seed_demo(conn: &mut DbConnection, tz: Tz) -> anyhow::Result<Vec<DemoAccount>> {
    let existing: i64 = e::table.count().get_result(conn)?;
    if existing > 0 {
        bail!("the registry already holds {existing} events; seed-demo loads only an empty registry");
    }
    let roles = [
        ("demo-admin", Role::Admin, "internal-policy"),
        ("demo-coordinator", Role::Coordinator, "internal-policy"),
        ("demo-organiser", Role::Organiser, "youth-centre"),
        ("demo-viewer", Role::Viewer, "legal-support"),
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
        for (code, kk, ru) in DEPARTMENTS {
            let row = match departments::find_by_code(tx.conn(), code)? {
                Some(row) => row,
                None => {
                    let row = departments::insert(tx.conn(), &NewDepartment { code, name_kk: kk, name_ru: ru, parent_id: None })?;
                    let d = DepartmentResponse::from(row.clone());
                    tx.audit("department.create", "department", Some(&d.id), audit::changes(None::<&Value>, Some(&d)))?;
                    row
                }
            };
            ids.insert(code, row.id);
        }
        let dept = |code: &str| ids.get(code).cloned().unwrap_or_default();
        for (account, hash, code) in &people {
            let row = accounts::insert(
                tx.conn(),
                &NewAccount { username: &account.username, display_name: &account.username, department_id: &dept(code), role: account.role.as_str(), password_hash: hash },
            )?;
            let a = AccountResponse::from(row);
            tx.audit("account.create", "account", Some(&a.id), audit::changes(None::<&Value>, Some(&a)))?;
        }
        let plan = plans::insert_plan(tx.conn(), 2024, "2024 жылға арналған сыбайлас жемқорлыққа қарсы іс-шаралар жоспары", &dept("internal-policy"))?;
        tx.audit("plan.create", "plan", Some(&plan.id), json!({"year": {"from": null, "to": 2024}}))?;
        let date = |m, d| NaiveDate::from_ymd_opt(2024, m, d).expect("a 2024 date");
        let item_specs = [
            ("1.1", "Жастар арасында сыбайлас жемқорлыққа қарсы дәрістер мен семинарлар өткізу", "youth-centre", date(12, 31), 10, 600),
            ("1.2", "Дөңгелек үстелдер мен кездесулер ұйымдастыру", "internal-policy", date(6, 30), 6, 350),
            ("1.3", "Мемлекеттік қызметшілерге арналған әдеп тренингтері", "legal-support", date(9, 30), 4, 120),
            ("2.1", "«Адал жастар» ақпараттық науқаны мен байқаулар", "youth-centre", date(12, 31), 6, 400),
        ];
        let mut items = std::collections::HashMap::new();
        for (number, title, code, due, target_events, target_participants) in item_specs {
            let row = plans::insert_item(
                tx.conn(),
                &plan.id,
                &ItemData { number, title, responsible_department_id: &dept(code), due_date: due, target_events, target_participants },
            )?;
            tx.audit("plan_item.create", "plan_item", Some(&row.id), json!({"number": {"from": null, "to": number}}))?;
            items.insert(number, row.id);
        }
        let youth = dept("youth-centre");
        let partners = vec![dept("internal-policy")];
        for (i, ((month, day), total)) in DAYS.iter().zip(TOTALS).enumerate() {
            let (title, kind) = THEMES[i % THEMES.len()];
            let local = tz.from_local_datetime(&date(*month, *day).and_hms_opt(15, 0, 0).expect("15:00")).single().expect("no DST in Almaty");
            let starts = local.with_timezone(&Utc).naive_utc();
            let ends = starts + chrono::Duration::hours(if kind == EventKind::Campaign { 24 * 7 } else { 2 });
            let audiences = if i % 3 == 0 { vec![Audience::Youth, Audience::Schoolchildren] } else { vec![Audience::Youth, Audience::Students] };
            let organisers = vec![Organiser {
                full_name: SPEAKERS[i % SPEAKERS.len()].to_string(),
                role: if i % 2 == 0 { OrganiserRole::Speaker } else { OrganiserRole::Moderator },
                organisation: Some("Қалалық жастар ресурстық орталығы".into()),
            }];
            // Only items whose responsible department takes part (the youth centre leads, the
            // policy department partners): the legal-support subdivision's trainings (1.3) get no
            // events of theirs, which is the story's point.
            let item = match kind {
                EventKind::Lecture | EventKind::Seminar => Some("1.1"),
                EventKind::RoundTable | EventKind::Meeting => Some("1.2"),
                EventKind::Training => None,
                _ => Some("2.1"),
            };
            let youth_count = total * 3 / 5;
            let attendance = Attendance {
                total,
                basis: if i % 4 == 3 { AttendanceBasis::Headcount } else { AttendanceBasis::SignInSheet },
                breakdown: vec![BreakdownItem { audience: Audience::Youth, count: youth_count }],
            };
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
                lead_department_id: &youth,
                partner_department_ids: &partners,
                plan_item_id: item.and_then(|i| items.get(i)).map(String::as_str),
                organisers: &organisers,
                planned_participants: Some(60),
                status: EventStatus::Held,
            };
            let id = store::new_id();
            events::insert(tx.conn(), &id, &data, Some(&attendance), "seed-demo", store::now())?;
            let event = events::find(tx.conn(), &id)?.ok_or(ApiError::NotFound)?;
            tx.audit("event.create", "event", Some(&id), audit::changes(None::<&Value>, Some(&event)))?;
        }
        Ok(())
    })
    .map_err(api)
    .context("seeding the demonstration registry")?;
    Ok(people.into_iter().map(|(a, _, _)| a).collect())
}
