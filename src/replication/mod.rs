//! Replicas: several querent processes pointed at one Qdrant server or cluster (`--qdrant-url`)
//! share their state there, so that a load balancer may send any request to any of them.
//!
//! [`Replication`] owns three payload-only collections beside the vector ones (each point
//! carries a one-dimensional dummy vector; only its payload matters):
//!
//! - `<prefix>sessions`: one point per conversation turn, keyword index on `session`
//!   ([`crate::conversation::SessionStore`] reads and writes them instead of `state.sqlite`);
//! - `<prefix>changelog`: one point per curation change, **its id is the change's number**, so a
//!   replica reads the changes after the last one it knows with one scroll from that id; a
//!   number is taken with an insert-only upsert and read back, so two replicas writing at once
//!   cannot both take it ([`crate::knowledge::audit::AuditLog`] keeps its entries there instead
//!   of `audit/knowledge.jsonl`);
//! - `<prefix>knowledge_versions`: one point per domain, the number of its last change; each
//!   replica polls it (every [`POLL_INTERVAL`]) and, when a domain moved, applies the new
//!   changes to its own knowledge files and reloads the domain
//!   ([`crate::knowledge::curation::Curator::watch_replicas`]).
//!
//! The knowledge files stay each replica's source for loading, export and review in git; the
//! change log is the truth they are brought up to (at start-up, before the knowledge is loaded,
//! then by the poll). The vector collections need nothing more: they are already shared.
//! Without `--qdrant-url` none of this exists and each room keeps its local store.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;

use qdrant_client::qdrant::{
    point_id::PointIdOptions, Condition, CreateCollectionBuilder,
    CreateFieldIndexCollectionBuilder, DeletePointsBuilder, Distance, FieldType, Filter,
    GetPointsBuilder, PointId, PointStruct, PointsIdsList, ScrollPointsBuilder, UpdateMode,
    UpsertPointsBuilder, VectorParamsBuilder, WriteOrdering, WriteOrderingType,
};
use qdrant_client::Payload;

use crate::retrieval::index::{point_id, QdrantConnection};
use crate::retrieval::{RetrievalError, ServerConfig};

/// How often a replica looks for knowledge changes made through the others.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Points per scroll page.
const PAGE: u32 = 256;
/// The payload-only collections' one-dimensional vector.
const DUMMY: [f32; 1] = [1.0];

const SESSIONS: &str = "sessions";
const CHANGELOG: &str = "changelog";
const VERSIONS: &str = "knowledge_versions";

/// A conversation turn as stored in the sessions collection.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTurn {
    /// The point's id (to trim the session).
    pub id: u64,
    /// The turn's number in its session, from 1.
    pub n: u64,
    /// The turn: `{database, question, sql, generation_method}`.
    pub turn: serde_json::Value,
}

/// The replicas' shared state on a Qdrant server; see the module docs.
#[derive(Debug)]
pub struct Replication {
    conn: QdrantConnection,
    /// The number of the last change this process's knowledge files hold.
    applied: AtomicU64,
    /// This process, as it signs the changes it records (to tell its own insert from another's).
    writer: String,
    /// What the last read of the shared knowledge versions found.
    poll: Mutex<PollState>,
}

#[derive(Debug, Default)]
struct PollState {
    /// When the versions were last read, and the highest change number they named.
    read: Option<(Instant, u64)>,
    /// When a read last failed, and why (cleared by the next read that succeeds).
    failed: Option<(Instant, String)>,
}

/// Where this replica stands against the shared state, for health and metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicationStatus {
    /// The Qdrant server's URL.
    pub url: String,
    /// `ok` (the shared versions were read within the last 5 s), `starting` (not read yet) or
    /// `unreachable` (the last read failed, or none succeeded for 5 s: writes through other
    /// replicas are not seen until it is back).
    pub state: &'static str,
    /// The number of the last change this replica's knowledge holds.
    pub applied_change: u64,
    /// The highest change number the shared versions named at the last read.
    pub latest_change: u64,
    /// Milliseconds since the shared versions were last read (absent before the first read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_read_ms_ago: Option<u64>,
    /// Why the last read failed (absent when it succeeded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A replica whose last successful read of the shared versions is older than this is
/// `unreachable` (ten poll rounds).
const STALE_AFTER: Duration = Duration::from_secs(5);

impl Replication {
    /// Connects to the server of `config` and creates the three collections when missing.
    ///
    /// Errors: those of [`QdrantConnection::connect`], or a collection that cannot be made.
    pub fn open(config: ServerConfig) -> Result<Self, RetrievalError> {
        let replication = Self {
            conn: QdrantConnection::connect(config)?,
            applied: AtomicU64::new(0),
            writer: uuid::Uuid::new_v4().to_string(),
            poll: Mutex::default(),
        };
        replication.ensure(SESSIONS, "session")?;
        replication.ensure(CHANGELOG, "database")?;
        replication.ensure(VERSIONS, "database")?;
        Ok(replication)
    }

    /// The server's URL (for logs and health).
    pub fn url(&self) -> &str {
        &self.conn.config().url
    }

    /// The number of the last change this process's knowledge files hold.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::SeqCst)
    }

    /// Where this replica stands: the last read of the shared versions and the changes it has
    /// applied.
    pub fn status(&self) -> ReplicationStatus {
        let poll = self.poll.lock();
        let fresh = poll.read.is_some_and(|(at, _)| at.elapsed() <= STALE_AFTER);
        let state = match (&poll.read, &poll.failed) {
            (_, Some(_)) => "unreachable",
            (None, None) => "starting",
            (Some(_), None) if fresh => "ok",
            (Some(_), None) => "unreachable",
        };
        ReplicationStatus {
            url: self.url().to_string(),
            state,
            applied_change: self.applied(),
            latest_change: poll.read.map_or(0, |(_, seq)| seq),
            last_read_ms_ago: poll.read.map(|(at, _)| at.elapsed().as_millis() as u64),
            error: poll.failed.as_ref().map(|(_, e)| e.clone()),
        }
    }

    /// Records that the knowledge files hold every change up to `seq`.
    pub fn set_applied(&self, seq: u64) {
        self.applied.fetch_max(seq, Ordering::SeqCst);
    }

    fn collection(&self, name: &str) -> String {
        format!("{}{name}", self.conn.config().collection_prefix)
    }

    /// Creates collection `name` (one-dimensional dummy vectors) with a keyword index on
    /// `field`, unless it exists.
    fn ensure(&self, name: &str, field: &str) -> Result<(), RetrievalError> {
        let collection = self.collection(name);
        let client = self.conn.client();
        let c = collection.clone();
        if self.conn.run("collection check", async move {
            client.collection_exists(c).await
        })? {
            return Ok(());
        }
        let client = self.conn.client();
        let c = collection.clone();
        let created = self.conn.run("create collection", async move {
            client
                .create_collection(
                    CreateCollectionBuilder::new(c)
                        .vectors_config(VectorParamsBuilder::new(1, Distance::Cosine)),
                )
                .await
        });
        if let Err(e) = created {
            // another replica may have made it meanwhile
            let client = self.conn.client();
            let c = collection.clone();
            if !self.conn.run("collection check", async move {
                client.collection_exists(c).await
            })? {
                return Err(e);
            }
        }
        let client = self.conn.client();
        let field = field.to_string();
        self.conn.run("create a field index", async move {
            client
                .create_field_index(
                    CreateFieldIndexCollectionBuilder::new(collection, field, FieldType::Keyword)
                        .wait(true),
                )
                .await
        })?;
        Ok(())
    }

    fn point(&self, id: u64, payload: serde_json::Value) -> Result<PointStruct, RetrievalError> {
        let payload = Payload::try_from(payload).map_err(|e| RetrievalError::Server {
            url: self.url().to_string(),
            message: format!("a payload that is not a JSON object: {e}"),
        })?;
        Ok(PointStruct::new(id, DUMMY.to_vec(), payload))
    }

    /// Every point of `name` matching `filter` (all when `None`) from id `from` on, in id order,
    /// as (id, payload).
    fn scroll(
        &self,
        name: &str,
        filter: Option<Filter>,
        from: Option<u64>,
    ) -> Result<Vec<(u64, serde_json::Map<String, serde_json::Value>)>, RetrievalError> {
        let mut found = Vec::new();
        let mut offset = from.map(PointId::from);
        loop {
            let mut request = ScrollPointsBuilder::new(self.collection(name))
                .limit(PAGE)
                .with_payload(true)
                .with_vectors(false);
            if let Some(filter) = &filter {
                request = request.filter(filter.clone());
            }
            if let Some(offset) = offset.take() {
                request = request.offset(offset);
            }
            let client = self.conn.client();
            let page = self
                .conn
                .run("scroll", async move { client.scroll(request).await })?;
            for point in page.result {
                if let Some(id) = numeric(point.id.as_ref()) {
                    found.push((id, json(point.payload)));
                }
            }
            match page.next_page_offset {
                Some(next) => offset = Some(next),
                None => return Ok(found),
            }
        }
    }

    // --- the change log ---

    /// The recorded changes numbered above `seq`, in order, as JSON entries.
    pub fn changes_after(&self, seq: u64) -> Result<Vec<serde_json::Value>, RetrievalError> {
        Ok(self
            .scroll(CHANGELOG, None, Some(seq + 1))?
            .into_iter()
            .filter_map(|(_, mut payload)| payload.remove("entry"))
            .collect())
    }

    /// Records `entry` as change number `seq` unless that number is taken: true when this
    /// process took it. An insert-only upsert (strong write ordering on a cluster), then the
    /// point read back: whoever's signature is there owns the number.
    pub fn record_change(
        &self,
        seq: u64,
        database: &str,
        entry: &serde_json::Value,
    ) -> Result<bool, RetrievalError> {
        let point = self.point(
            seq,
            serde_json::json!({ "database": database, "writer": self.writer, "entry": entry }),
        )?;
        let request = UpsertPointsBuilder::new(self.collection(CHANGELOG), vec![point])
            .update_mode(UpdateMode::InsertOnly)
            .ordering(WriteOrdering {
                r#type: WriteOrderingType::Strong as i32,
            })
            .wait(true);
        let client = self.conn.client();
        self.conn.run("record a change", async move {
            client.upsert_points(request).await
        })?;
        let request = GetPointsBuilder::new(self.collection(CHANGELOG), vec![PointId::from(seq)])
            .with_payload(true);
        let client = self.conn.client();
        let read = self.conn.run("read a change back", async move {
            client.get_points(request).await
        })?;
        let writer = read
            .result
            .into_iter()
            .next()
            .and_then(|p| json(p.payload).remove("writer"));
        Ok(writer.as_ref().and_then(|w| w.as_str()) == Some(self.writer.as_str()))
    }

    /// Moves `database`'s knowledge version to `seq` (its last change), for the other replicas'
    /// poll.
    pub fn set_version(&self, database: &str, seq: u64) -> Result<(), RetrievalError> {
        let point = self.point(
            point_id("knowledge_versions", database),
            serde_json::json!({ "database": database, "seq": seq, "at": chrono::Utc::now() }),
        )?;
        let request = UpsertPointsBuilder::new(self.collection(VERSIONS), vec![point]).wait(true);
        let client = self.conn.client();
        self.conn.run("set a knowledge version", async move {
            client.upsert_points(request).await
        })?;
        Ok(())
    }

    /// Every domain's knowledge version (the number of its last change). Each read is recorded
    /// for [`Replication::status`].
    pub fn versions(&self) -> Result<BTreeMap<String, u64>, RetrievalError> {
        let read = self.scroll(VERSIONS, None, None).map(|points| {
            points
                .into_iter()
                .filter_map(|(_, p)| {
                    Some((
                        p.get("database")?.as_str()?.to_string(),
                        p.get("seq")?.as_u64()?,
                    ))
                })
                .collect::<BTreeMap<String, u64>>()
        });
        let mut poll = self.poll.lock();
        match &read {
            Ok(versions) => {
                let latest = versions.values().copied().max().unwrap_or(0);
                poll.read = Some((Instant::now(), latest));
                poll.failed = None;
            }
            Err(e) => poll.failed = Some((Instant::now(), e.to_string())),
        }
        read
    }

    // --- sessions ---

    /// Every stored turn of `session` (all databases), oldest first.
    pub fn session_turns(&self, session: &str) -> Result<Vec<StoredTurn>, RetrievalError> {
        let filter = Filter::must([Condition::matches("session", session.to_string())]);
        let mut turns: Vec<(u64, StoredTurn)> = self
            .scroll(SESSIONS, Some(filter), None)?
            .into_iter()
            .map(|(id, mut p)| {
                let n = p.get("n").and_then(|n| n.as_u64()).unwrap_or(0);
                let at = p.get("at_ms").and_then(|n| n.as_u64()).unwrap_or(0);
                let turn = p.remove("turn").unwrap_or_default();
                (at, StoredTurn { id, n, turn })
            })
            .collect();
        turns.sort_by_key(|(at, t)| (t.n, *at, t.id));
        Ok(turns.into_iter().map(|(_, t)| t).collect())
    }

    /// Stores `turn` as turn `n` of `session`.
    pub fn add_turn(
        &self,
        session: &str,
        n: u64,
        turn: serde_json::Value,
    ) -> Result<(), RetrievalError> {
        let at_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let id = point_id(session, &format!("{n}:{}", uuid::Uuid::new_v4()));
        let point = self.point(
            id,
            serde_json::json!({ "session": session, "n": n, "at_ms": at_ms, "turn": turn }),
        )?;
        let request = UpsertPointsBuilder::new(self.collection(SESSIONS), vec![point]).wait(true);
        let client = self.conn.client();
        self.conn.run("record a turn", async move {
            client.upsert_points(request).await
        })?;
        Ok(())
    }

    /// Deletes the turns `ids` (beyond a session's bound).
    pub fn delete_turns(&self, ids: Vec<u64>) -> Result<(), RetrievalError> {
        if ids.is_empty() {
            return Ok(());
        }
        let request = DeletePointsBuilder::new(self.collection(SESSIONS))
            .points(PointsIdsList {
                ids: ids.into_iter().map(PointId::from).collect(),
            })
            .wait(true);
        let client = self.conn.client();
        self.conn.run("trim a session", async move {
            client.delete_points(request).await
        })?;
        Ok(())
    }
}

fn numeric(id: Option<&PointId>) -> Option<u64> {
    match id?.point_id_options.as_ref()? {
        PointIdOptions::Num(n) => Some(*n),
        PointIdOptions::Uuid(_) => None,
    }
}

fn json(
    payload: HashMap<String, qdrant_client::qdrant::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    payload
        .into_iter()
        .map(|(k, v)| (k, v.into_json()))
        .collect()
}
