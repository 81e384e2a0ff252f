'use strict';
/*
 * An express-session store on the Session entity, written for the tests
 * after the behaviour of connect-mikro-orm that issue 14 describes:
 *
 *   get      SELECT ... WHERE expired_at > now AND id = ?, then JSON.parse
 *   set      upsert (id, JSON.stringify(session), expired_at = now + ttl*1000)
 *   destroy  DELETE ... WHERE id = ?
 *   touch    UPDATE expired_at only
 *
 * ttl is the cookie's maxAge in seconds, or one day when it has none.
 * Expired rows are left in the table, as connect-mikro-orm leaves them.
 *
 * Two of connect-mikro-orm's bugs are deliberately not copied: its touch
 * writes a row without json (NOT NULL fails), and one failed query or one
 * invalid json makes it stop using the database for good. Here touch
 * updates expired_at alone, an invalid json row is no session (logged),
 * and a failed query fails that request only.
 */
const session = require('express-session');

const ONE_DAY_S = 86400;

/** The session's time to live in seconds, as connect-mikro-orm computes it. */
function ttlSeconds(sess) {
    const maxAge = sess && sess.cookie ? sess.cookie.maxAge : undefined;
    return typeof maxAge === 'number' ? Math.floor(maxAge / 1000) : ONE_DAY_S;
}

class MikroOrmStore extends session.Store {
    /**
     * orm: an initialised MikroORM; entity: the Session entity (class).
     */
    constructor(orm, entity) {
        super();
        this.orm = orm;
        this.entity = entity;
    }

    /** A fresh EntityManager per operation: no identity map shared
     *  between requests, so every get reads the database. */
    em() {
        return this.orm.em.fork();
    }

    get(sid, cb) {
        this.em().findOne(this.entity, { id: sid, expiredAt: { $gt: Date.now() } })
            .then((row) => {
                if (!row) {
                    return cb(null, null);
                }
                let sess;
                try {
                    sess = JSON.parse(row.json);
                } catch (e) {
                    console.error('store: session %s: invalid json ignored: %s', sid, e.message);
                    return cb(null, null);
                }
                return cb(null, sess);
            }, (err) => cb(err));
    }

    set(sid, sess, cb) {
        const row = {
            id: sid,
            json: JSON.stringify(sess),
            expiredAt: Date.now() + ttlSeconds(sess) * 1000,
        };
        this.em().upsert(this.entity, row)
            .then(() => cb && cb(null), (err) => cb && cb(err));
    }

    destroy(sid, cb) {
        this.em().nativeDelete(this.entity, { id: sid })
            .then(() => cb && cb(null), (err) => cb && cb(err));
    }

    touch(sid, sess, cb) {
        this.em().nativeUpdate(this.entity, { id: sid },
            { expiredAt: Date.now() + ttlSeconds(sess) * 1000 })
            .then(() => cb && cb(null), (err) => cb && cb(err));
    }
}

module.exports = { MikroOrmStore, ttlSeconds };
