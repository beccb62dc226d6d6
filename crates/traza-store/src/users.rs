//! Users, passwords (argon2id, hashed off the async runtime) and bearer tokens (random,
//! stored only as their SHA-256).

use std::collections::BTreeSet;
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use traza_domain::access::{Action, Actor, check_user_labs};
use traza_domain::auth::check_new_password;
use traza_domain::codes::{LabCode, Username};
use traza_domain::validation::{Explain, Fields, Problem};
use traza_domain::vocab::Role;

use crate::Store;
use crate::auth::{Attempt, hash_password, password_matches, standing_lock_of, standing_locks};
use crate::entity::{labs, tokens, user_labs, users};
use crate::error::{StoreError, stored};
use crate::write::{Change, Write};

/// How long a bearer token lives: one working shift.
pub const TOKEN_LIFETIME_HOURS: i64 = 12;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub full_name: String,
    pub role: Role,
    pub labs: BTreeSet<LabCode>,
    pub password: String,
}

/// A partial update of a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub full_name: Option<String>,
    pub role: Option<Role>,
    pub labs: Option<BTreeSet<LabCode>>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

/// A user account as the administrator sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    pub username: Username,
    pub full_name: String,
    pub role: Role,
    pub labs: BTreeSet<LabCode>,
    pub active: bool,
    /// When the account's lock ends (RFC 3339 date-time), while one stands: repeated wrong
    /// passwords lock an account, and until then its login and electronic signatures are
    /// refused, unless an admin lifts the lock (`POST /users/{username}/unlock`). `null` when
    /// the account is not locked (a lock that has run out is not one).
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// The actor Traza itself uses for bootstrap and fixture loading.
pub fn system_actor() -> Actor {
    Actor {
        username: Username::parse("system")
            .unwrap_or_else(|_| unreachable!("'system' is a valid username")),
        full_name: "Traza (system)".into(),
        role: Role::Admin,
        labs: BTreeSet::new(),
    }
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn view(
    user: &users::Model,
    labs: BTreeSet<LabCode>,
    locked_until: Option<DateTime<Utc>>,
) -> Result<UserView, StoreError> {
    Ok(UserView {
        username: stored("username", Username::parse(&user.username))?,
        full_name: user.full_name.clone(),
        role: stored("role", user.role.parse())?,
        labs,
        active: user.active,
        locked_until,
    })
}

fn user_json(v: &UserView) -> serde_json::Value {
    json!({"username": v.username, "full_name": v.full_name, "role": v.role, "labs": v.labs, "active": v.active})
}

async fn labs_of(
    db: &impl sea_orm::ConnectionTrait,
    username: &str,
) -> Result<BTreeSet<LabCode>, StoreError> {
    user_labs::Entity::find()
        .filter(user_labs::Column::Username.eq(username))
        .all(db)
        .await?
        .into_iter()
        .map(|l| stored("lab code", LabCode::parse(&l.lab_code)))
        .collect()
}

/// A laboratory the network does not have, named in the message; `unknown_lab` as a problem.
struct UnknownLab<'a>(&'a LabCode);

impl std::fmt::Display for UnknownLab<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown laboratory {}", self.0)
    }
}

impl Explain for UnknownLab<'_> {
    fn problem(&self) -> Option<Problem> {
        Some(Problem::UnknownLab)
    }
}

async fn check_labs_exist(w: &Write, labs: &BTreeSet<LabCode>) -> Result<(), StoreError> {
    let mut fields = Fields::default();
    for lab in labs {
        let found = labs::Entity::find_by_id(lab.as_str()).one(&w.tx).await?;
        fields.ensure(found.is_some(), "labs", UnknownLab(lab));
    }
    Ok(fields.finish()?)
}

async fn set_labs(w: &Write, username: &str, labs: &BTreeSet<LabCode>) -> Result<(), StoreError> {
    user_labs::Entity::delete_many()
        .filter(user_labs::Column::Username.eq(username))
        .exec(&w.tx)
        .await?;
    if !labs.is_empty() {
        user_labs::Entity::insert_many(labs.iter().map(|lab| user_labs::ActiveModel {
            username: Set(username.to_owned()),
            lab_code: Set(lab.as_str().to_owned()),
        }))
        .exec_without_returning(&w.tx)
        .await?;
    }
    Ok(())
}

/// Revokes every token of `username` (kept, with the time), in this write.
async fn revoke_tokens(w: &Write, username: &str) -> Result<(), StoreError> {
    tokens::Entity::update_many()
        .col_expr(
            tokens::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(w.now()),
        )
        .filter(tokens::Column::Username.eq(username))
        .filter(tokens::Column::RevokedAt.is_null())
        .exec(&w.tx)
        .await?;
    Ok(())
}

/// The argon2id hash of a new user's password, once the password policy accepts it. Called
/// before the write transaction opens: argon2 never runs inside one.
pub(crate) async fn new_password_hash(new: &NewUser) -> Result<String, StoreError> {
    check_new_user(new)?;
    hash_password(new.password.clone()).await
}

/// Every field of a new user, each problem named at once; the trimmed full name.
fn check_new_user(new: &NewUser) -> Result<String, StoreError> {
    let mut fields = Fields::default();
    let full_name = fields.check(
        "full_name",
        traza_domain::validation::text(&new.full_name, 200),
    );
    fields.check("labs", check_user_labs(new.role, &new.labs));
    fields.check(
        "password",
        check_new_password(&new.password, new.username.as_str()),
    );
    fields.finish()?;
    Ok(full_name.unwrap_or_default())
}

/// Inserts a user inside an open write (used by the API, the CLI and the fixture loader), with
/// the hash [`new_password_hash`] made.
pub(crate) async fn insert_user(
    w: &mut Write,
    new: NewUser,
    password_hash: String,
) -> Result<UserView, StoreError> {
    let full_name = check_new_user(&new)?;
    check_labs_exist(w, &new.labs).await?;
    if users::Entity::find_by_id(new.username.as_str())
        .one(&w.tx)
        .await?
        .is_some()
    {
        return Err(StoreError::Duplicate(format!("user {}", new.username)));
    }
    let now = w.now();
    // A keyed digest of the hash: `audit verify` finds a password hash swapped in the table.
    let password_digest = w.keyed_digest(password_hash.as_bytes());
    users::Entity::insert(users::ActiveModel {
        username: Set(new.username.as_str().to_owned()),
        full_name: Set(full_name),
        role: Set(new.role.as_str().to_owned()),
        password_hash: Set(password_hash),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(&w.tx)
    .await?;
    set_labs(w, new.username.as_str(), &new.labs).await?;
    let created = UserView {
        username: new.username,
        full_name: new.full_name.trim().to_owned(),
        role: new.role,
        labs: new.labs,
        active: true,
        // A new name: no wrong password has been counted for it.
        locked_until: None,
    };
    let key = created.username.to_string();
    let mut after = user_json(&created);
    if let Some(obj) = after.as_object_mut() {
        obj.insert("password_digest".into(), json!(password_digest));
    }
    w.audit(Change {
        action: "user.create",
        entity_type: "user",
        entity_key: &key,
        before: None,
        after: Some(after),
        reason: None,
    })
    .await?;
    Ok(created)
}

impl Store {
    /// Creates a user (admin only). The password is never stored, only its argon2id hash.
    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<UserView, StoreError> {
        actor.may(Action::ManageUsers)?;
        let hash = new_password_hash(&new).await?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let created = insert_user(&mut w, new, hash).await?;
        w.commit().await?;
        Ok(created)
    }

    /// Whether any active admin exists (the CLI may create the first one without an actor).
    pub async fn has_active_admin(&self) -> Result<bool, StoreError> {
        Ok(users::Entity::find()
            .filter(users::Column::Role.eq(Role::Admin.as_str()))
            .filter(users::Column::Active.eq(true))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Changes a user. Deactivating revokes every token at once; users are never deleted.
    pub async fn update_user(
        &self,
        actor: &Actor,
        username: &str,
        update: UserUpdate,
    ) -> Result<UserView, StoreError> {
        actor.may(Action::ManageUsers)?;
        // Argon2 never runs inside a write transaction (it would hold every writer back).
        let new_hash = match &update.password {
            Some(pw) => {
                check_new_password(pw, username).map_err(|e| StoreError::invalid("password", e))?;
                Some(hash_password(pw.clone()).await?)
            }
            None => None,
        };
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let user = users::Entity::find_by_id(username)
            .one(&w.tx)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        let before = view(
            &user,
            labs_of(&w.tx, username).await?,
            standing_lock_of(&w.tx, username).await?,
        )?;
        let mut after = before.clone();
        let mut fields = Fields::default();
        if let Some(name) = &update.full_name {
            after.full_name = fields
                .check("full_name", traza_domain::validation::text(name, 200))
                .unwrap_or_default();
        }
        after.role = update.role.unwrap_or(before.role);
        after.labs = update.labs.clone().unwrap_or_else(|| before.labs.clone());
        after.active = update.active.unwrap_or(before.active);
        fields.check("labs", check_user_labs(after.role, &after.labs));
        fields.finish()?;
        check_labs_exist(&w, &after.labs).await?;
        let mut model: users::ActiveModel = user.into();
        model.full_name = Set(after.full_name.clone());
        model.role = Set(after.role.as_str().to_owned());
        model.active = Set(after.active);
        model.updated_at = Set(w.now());
        let password_digest = new_hash.as_ref().map(|h| w.keyed_digest(h.as_bytes()));
        if let Some(hash) = new_hash {
            model.password_hash = Set(hash);
        }
        users::Entity::update(model).exec(&w.tx).await?;
        let password_changed = update.password.is_some();
        if after.labs != before.labs {
            set_labs(&w, username, &after.labs).await?;
        }
        if !after.active || update.labs.is_some() || update.role.is_some() || password_changed {
            // A changed role or scope must not survive in tokens issued under the old one,
            // nor a session opened with a password that was reset.
            revoke_tokens(&w, username).await?;
        }
        let mut after_json = user_json(&after);
        if let Some(obj) = after_json.as_object_mut() {
            obj.insert("password_changed".into(), json!(password_changed));
            if let Some(d) = password_digest {
                obj.insert("password_digest".into(), json!(d));
            }
        }
        w.audit(Change {
            action: "user.update",
            entity_type: "user",
            entity_key: username,
            before: Some(user_json(&before)),
            after: Some(after_json),
            reason: None,
        })
        .await?;
        w.commit().await?;
        // Before the change is acknowledged: no cached token may outlive a revocation.
        self.tokens.clear();
        Ok(after)
    }

    /// The active QA people of `lab` (usernames): who may certify its batches before the
    /// four-eyes rule takes out those who took part in one. Asked by QA of that laboratory,
    /// to know whether anyone else could sign.
    pub async fn qa_of_lab(
        &self,
        actor: &Actor,
        lab: &LabCode,
    ) -> Result<BTreeSet<String>, StoreError> {
        actor.may_in_lab(Action::Release, lab)?;
        let members: Vec<String> = user_labs::Entity::find()
            .filter(user_labs::Column::LabCode.eq(lab.as_str()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| m.username)
            .collect();
        Ok(users::Entity::find()
            .filter(users::Column::Username.is_in(members))
            .filter(users::Column::Role.eq(Role::Qa.as_str()))
            .filter(users::Column::Active.eq(true))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| u.username)
            .collect())
    }

    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<UserView>, StoreError> {
        actor.may(Action::ManageUsers)?;
        let all = users::Entity::find()
            .order_by_asc(users::Column::Username)
            .all(&self.db)
            .await?;
        let mut locks = standing_locks(&self.db).await?;
        let mut out = Vec::with_capacity(all.len());
        for u in &all {
            let locked_until = locks.remove(&u.username);
            out.push(view(
                u,
                labs_of(&self.db, &u.username).await?,
                locked_until,
            )?);
        }
        Ok(out)
    }

    /// The actor for an active user (the CLI's `--user`).
    pub async fn actor(&self, username: &str) -> Result<Actor, StoreError> {
        let user = users::Entity::find_by_id(username)
            .filter(users::Column::Active.eq(true))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        // The actor of a session: whether the account is locked is the login's question.
        let v = view(&user, labs_of(&self.db, username).await?, None)?;
        Ok(Actor {
            username: v.username,
            full_name: v.full_name,
            role: v.role,
            labs: v.labs,
        })
    }

    /// Checks a password of an active user. Unknown users cost the same time as known ones,
    /// so the answer does not reveal which usernames exist.
    ///
    /// A locked account or a throttled `address` is refused before the password is looked at
    /// (423, 429); a wrong password counts toward both.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<Actor, StoreError> {
        // Not a possible username (a NUL, say, which PostgreSQL would refuse): nobody. The
        // dummy verification still runs so the answer takes as long as for a real user.
        let username = match Username::parse(username) {
            Ok(u) => u,
            Err(_) => {
                self.auth_gate(None, address).await?;
                password_matches(password.to_owned(), DUMMY_HASH.to_owned()).await;
                self.auth_failed(None, address, Attempt::Login).await?;
                return Err(StoreError::Unauthenticated);
            }
        };
        let username = username.as_str();
        let user = users::Entity::find_by_id(username)
            .filter(users::Column::Active.eq(true))
            .one(&self.db)
            .await?;
        self.auth_gate(user.as_ref().map(|_| username), address)
            .await?;
        let hash = match &user {
            Some(u) => u.password_hash.clone(),
            None => DUMMY_HASH.to_owned(),
        };
        if !password_matches(password.to_owned(), hash).await || user.is_none() {
            self.auth_failed(user.as_ref().map(|_| username), address, Attempt::Login)
                .await?;
            return Err(StoreError::Unauthenticated);
        }
        self.auth_succeeded(username).await?;
        self.actor(username)
            .await
            .map_err(|_| StoreError::Unauthenticated)
    }

    /// Logs in: checks the password and issues an opaque token, stored only as its hash.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<(Actor, IssuedToken), StoreError> {
        let actor = self.authenticate(username, password, address).await?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let now = Utc::now();
        let expires_at = now + Duration::hours(TOKEN_LIFETIME_HOURS);
        tokens::Entity::insert(tokens::ActiveModel {
            token_hash: Set(token_hash(&token)),
            username: Set(actor.username.as_str().to_owned()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
            last_seen_at: Set(None),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok((actor, IssuedToken { token, expires_at }))
    }

    /// A user changes their own password, proving the current one (a wrong one counts toward
    /// the lock). Every session of the user ends: they log in again with the new password.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<(), StoreError> {
        let username = actor.username.as_str();
        self.verify_signature_password(actor, current).await?;
        check_new_password(new, username).map_err(|e| StoreError::invalid("new_password", e))?;
        if new == current {
            return Err(StoreError::invalid(
                "new_password",
                "must differ from the current password",
            ));
        }
        let hash = hash_password(new.to_owned()).await?;
        let mut w = self.write_for(actor).await?;
        let password_digest = w.keyed_digest(hash.as_bytes());
        users::Entity::update(users::ActiveModel {
            username: Set(username.to_owned()),
            password_hash: Set(hash),
            updated_at: Set(w.now()),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        revoke_tokens(&w, username).await?;
        w.audit(Change {
            action: "user.password_change",
            entity_type: "user",
            entity_key: username,
            before: None,
            after: Some(json!({
                "password_changed": true,
                "sessions_revoked": true,
                "password_digest": password_digest,
            })),
            reason: None,
        })
        .await?;
        w.commit().await?;
        self.tokens.clear();
        Ok(())
    }

    /// A web page's use of its session: a session idle for longer than
    /// [`WEB_SESSION_IDLE`](traza_domain::auth::WEB_SESSION_IDLE) ends (its token is revoked);
    /// otherwise its last use moves on, written at most once a minute.
    pub async fn touch_web_session(&self, token: &str) -> Result<(), StoreError> {
        use traza_domain::auth::{SessionUse, web_session_use};
        let hash = token_hash(token);
        let row = tokens::Entity::find_by_id(hash.clone())
            .filter(tokens::Column::RevokedAt.is_null())
            .one(&self.db)
            .await?
            .ok_or(StoreError::Unauthenticated)?;
        let now = Utc::now();
        let last = row.last_seen_at.unwrap_or(row.created_at);
        let set = |column: tokens::Column| {
            tokens::Entity::update_many()
                .col_expr(column, sea_orm::sea_query::Expr::value(now))
                .filter(tokens::Column::TokenHash.eq(hash.clone()))
                .filter(tokens::Column::RevokedAt.is_null())
        };
        match web_session_use(last, now) {
            SessionUse::Fresh => Ok(()),
            SessionUse::Touch => {
                set(tokens::Column::LastSeenAt).exec(&self.db).await?;
                Ok(())
            }
            SessionUse::Idle => {
                set(tokens::Column::RevokedAt).exec(&self.db).await?;
                self.tokens.clear();
                Err(StoreError::Unauthenticated)
            }
        }
    }

    /// Ends a session: the token is revoked (kept, with the time), in this process at once.
    pub async fn logout(&self, token: &str) -> Result<(), StoreError> {
        tokens::Entity::update_many()
            .col_expr(
                tokens::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(tokens::Column::TokenHash.eq(token_hash(token)))
            .filter(tokens::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        self.tokens.clear();
        Ok(())
    }

    /// Drops the cached token → user entries (they are otherwise trusted for up to 5 s).
    pub fn forget_cached_tokens(&self) {
        self.tokens.clear();
    }

    /// The actor behind a bearer token, if the token is known, unexpired, unrevoked and its
    /// user active.
    pub async fn actor_for_token(&self, token: &str) -> Result<Actor, StoreError> {
        let hash = token_hash(token);
        if let Some(actor) = self.tokens.get(&hash) {
            return Ok(actor);
        }
        let (username, expires_at) = tokens::Entity::find_by_id(hash.clone())
            .filter(tokens::Column::RevokedAt.is_null())
            .filter(tokens::Column::ExpiresAt.gt(Utc::now()))
            .select_only()
            .column(tokens::Column::Username)
            .column(tokens::Column::ExpiresAt)
            .into_tuple::<(String, chrono::DateTime<Utc>)>()
            .one(&self.db)
            .await?
            .ok_or(StoreError::Unauthenticated)?;
        let actor = self
            .actor(&username)
            .await
            .map_err(|_| StoreError::Unauthenticated)?;
        self.tokens.put(hash, actor.clone(), expires_at);
        Ok(actor)
    }
}

/// An argon2id hash of a random password, verified against when the username is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$0Vh2b5B2m6mY3d4JmWcQ2S8a4c0yJ3qg0y8f1v7cB9E";

/// Spends on an unknown signer's password the time a known one's would take (a check against
/// the decoy hash), so that refusing them tells nothing by its time.
pub(crate) async fn refuse_unknown_signer(password: &str) {
    password_matches(password.to_owned(), DUMMY_HASH.to_owned()).await;
}
