//! Making a registry usable: the first start's admin account, and `adal create-admin`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::accounts::model::AccountResponse;
use crate::accounts::store::{self as accounts, NewAccount};
use crate::audit::Actor;
use crate::auth::{Role, password};
use crate::config::Config;
use crate::departments::model::DepartmentResponse;
use crate::departments::store::{self as departments, NewDepartment};
use crate::error::ApiError;
use crate::store::{DbConnection, StoreUrl};
use crate::write;

pub const ADMIN_DEPARTMENT: &str = "administration";

fn api_err(e: ApiError) -> anyhow::Error {
    match e {
        ApiError::Internal(inner) => inner,
        other => anyhow::anyhow!("{}", other.to_problem().detail),
    }
}

/// Creates an admin account in one transaction with its audit entries: in the department with
/// `department_code`, or in `administration` (made when no department is named and none exists).
pub fn create_admin(
    conn: &mut DbConnection,
    username: &str,
    department_code: Option<&str>,
    password_hash: &str,
    only_if_no_accounts: bool,
) -> anyhow::Result<Option<AccountResponse>> {
    let actor = Actor::system();
    write::transaction(conn, &actor, "", |tx| -> Result<Option<AccountResponse>, ApiError> {
        if only_if_no_accounts && accounts::count(tx.conn())? > 0 {
            tx.without_entry("the registry already has accounts: nothing changed");
            return Ok(None);
        }
        let department = match department_code {
            Some(code) => departments::find_by_code(tx.conn(), code)?.ok_or_else(|| {
                ApiError::field("department_code", "exists", format!("no department has code {code:?}"))
            })?,
            None => match departments::find_by_code(tx.conn(), ADMIN_DEPARTMENT)? {
                Some(d) => d,
                None => {
                    let row = departments::insert(
                        tx.conn(),
                        // A `unit`: the registry's own administrators, not an akimat (which would
                        // narrow everyone else's reach to nothing).
                        &NewDepartment::unit(ADMIN_DEPARTMENT, "Әкімшілік", "Администрация", None),
                    )?;
                    let d = DepartmentResponse::from(row.clone());
                    tx.created("department.create", "department", &d.id, &d)?;
                    row
                }
            },
        };
        if accounts::username_taken(tx.conn(), username)? {
            return Err(ApiError::conflict(format!("an account named {username:?} already exists")));
        }
        let row = accounts::insert(
            tx.conn(),
            &NewAccount {
                username,
                display_name: username,
                department_id: &department.id,
                role: Role::Admin.as_str(),
                password_hash,
            },
        )?;
        let a = AccountResponse::from(row);
        tx.created("account.create", "account", &a.id, &a)?;
        Ok(Some(a))
    })
    .map_err(api_err)
}

/// Where the first start writes the generated admin password.
pub fn admin_password_file(config: &Config) -> PathBuf {
    match &config.database {
        StoreUrl::Sqlite { path } => Path::new(path).with_extension("admin-password"),
        StoreUrl::Postgres { .. } => config.key_file.with_file_name("adal.admin-password"),
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// On a registry with no accounts: the `administration` department and an `admin` account, its
/// password from `ADAL_ADMIN_PASSWORD` or generated into a 0600 file whose path (never the
/// password) is logged.
pub fn first_start(conn: &mut DbConnection, config: &Config) -> anyhow::Result<()> {
    if accounts::count(conn)? > 0 {
        return Ok(());
    }
    let (secret, generated) = match &config.admin_password {
        Some(p) => (String::from_utf8(p.expose().to_vec()).context("ADAL_ADMIN_PASSWORD is not UTF-8")?, false),
        None => (password::generate(), true),
    };
    let hash = password::hash(&secret).map_err(api_err)?;
    let Some(admin) = create_admin(conn, "admin", None, &hash, true)? else {
        return Ok(());
    };
    if generated {
        let file = admin_password_file(config);
        write_private(&file, &format!("{secret}\n"))?;
        tracing::warn!(
            username = %admin.username,
            password_file = %file.display(),
            "first start: created the admin account; its password is in the file named here; log in and change it, then delete the file"
        );
    } else {
        tracing::warn!(username = %admin.username, "first start: created the admin account with ADAL_ADMIN_PASSWORD; change it after logging in");
    }
    Ok(())
}

/// `adal create-admin`: the password from the first line of `input`.
pub fn create_admin_from_input(
    conn: &mut DbConnection,
    username: &str,
    department_code: Option<&str>,
    input: &mut dyn std::io::BufRead,
) -> anyhow::Result<AccountResponse> {
    let mut line = String::new();
    input.read_line(&mut line).context("cannot read the password from standard input")?;
    let secret = line.trim_end_matches(['\n', '\r']);
    if let Err(e) = password::check_length("password", secret) {
        bail!("password {}", e.message);
    }
    let name = crate::text::clean(username);
    if !(3..=64).contains(&name.chars().count()) {
        bail!("username must be 3 to 64 characters");
    }
    let hash = password::hash(secret).map_err(api_err)?;
    create_admin(conn, &name, department_code, &hash, false)?.context("the account was not created")
}
