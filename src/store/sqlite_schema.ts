/** The SQLite store's tables and statements. */

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages(id INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL,
  qos INTEGER NOT NULL, retain INTEGER NOT NULL, props BLOB, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(client_id TEXT PRIMARY KEY, expiry_interval INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, will_msg INTEGER, will_at INTEGER, will_delay INTEGER, will_expiry INTEGER);
CREATE TABLE IF NOT EXISTS subscriptions(client_id TEXT, filter TEXT, qos INTEGER, no_local INTEGER,
  rap INTEGER, rh INTEGER, sub_id INTEGER, PRIMARY KEY(client_id, filter)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue(client_id TEXT, seq INTEGER, msg_id INTEGER, qos INTEGER,
  retain INTEGER, sub_ids TEXT, PRIMARY KEY(client_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inflight(client_id TEXT, packet_id INTEGER, state INTEGER, msg_id INTEGER,
  qos INTEGER, retain INTEGER, sub_ids TEXT, PRIMARY KEY(client_id, packet_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rx_qos2(client_id TEXT, packet_id INTEGER,
  PRIMARY KEY(client_id, packet_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS retained(topic TEXT PRIMARY KEY, msg_id INTEGER) WITHOUT ROWID;
`;

/** Every statement the store prepares once. */
export const SQL = {
  addMessage:
    "INSERT INTO messages(topic, payload, qos, retain, props, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
  dropMessage: "DELETE FROM messages WHERE id = ?",
  putSession: "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)",
  sessionWill: "SELECT will_msg FROM sessions WHERE client_id = ?",
  putSub: "INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, ?, ?, ?, ?)",
  deleteSub: "DELETE FROM subscriptions WHERE client_id = ? AND filter = ?",
  enqueue: "INSERT OR REPLACE INTO queue VALUES (?, ?, ?, ?, ?, ?)",
  dequeue: "DELETE FROM queue WHERE client_id = ? AND seq = ?",
  putInflight: "INSERT OR REPLACE INTO inflight VALUES (?, ?, ?, ?, ?, ?, ?)",
  deleteInflight: "DELETE FROM inflight WHERE client_id = ? AND packet_id = ?",
  putRx: "INSERT OR IGNORE INTO rx_qos2 VALUES (?, ?)",
  deleteRx: "DELETE FROM rx_qos2 WHERE client_id = ? AND packet_id = ?",
  setRetained: "INSERT OR REPLACE INTO retained VALUES (?, ?)",
  deleteRetained: "DELETE FROM retained WHERE topic = ?",
  // plain ? three times: node:sqlite 22.13 refuses a reused ?1 ("column index out of range")
  sessionRefs: "SELECT will_msg AS id FROM sessions WHERE client_id = ? AND will_msg IS NOT NULL " +
    "UNION ALL SELECT msg_id FROM queue WHERE client_id = ? UNION ALL SELECT msg_id FROM inflight WHERE client_id = ?",
  dropSession: "DELETE FROM sessions WHERE client_id = ?",
  dropSubs: "DELETE FROM subscriptions WHERE client_id = ?",
  dropQueue: "DELETE FROM queue WHERE client_id = ?",
  dropInflight: "DELETE FROM inflight WHERE client_id = ?",
  dropRx: "DELETE FROM rx_qos2 WHERE client_id = ?",
} as const;
