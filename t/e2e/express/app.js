'use strict';
/*
 * The Express app next door (issue 14): express-session with our MikroORM
 * store on connect-mikro-orm's Session entity, sharing its table and its
 * signed connect.sid cookie with the httpd under test.
 *
 * Environment:
 *   DB_KIND        sqlite | pgsql
 *   DB_PATH        sqlite: the database file (the one httpd's DBDParams names)
 *   PG_HOST, PG_PORT, PG_USER, PG_PASSWORD, PG_DBNAME
 *                  pgsql: where the database is
 *   SECRETS        a JSON array of secrets: the first signs, all verify
 *   COOKIE_MAX_AGE optional cookie maxAge in milliseconds (none: a browser
 *                  session cookie, and the store's ttl is one day)
 *   PORT           the loopback port to listen on; 0: any free one
 *
 * Once the schema exists and the server listens it prints one line,
 * "express-peer ready port=<port>", which the harness waits for.
 *
 * Routes, each answering JSON:
 *   GET /login?user=U         a session with user, visits 0, remember true
 *                             and a nested object (prefs)
 *   GET /passport-login?user=U  a session as Passport writes one:
 *                             passport: {user: U}
 *   GET /whoami               the whole session; 401 without a user
 *   GET /session              {sid, session} whatever the session holds
 *   GET /set?k=v[&k2=v2]      sets string keys
 *   GET /incr                 visits += 1
 *   GET /logout               destroys the session (row deleted)
 */
const express = require('express');
const session = require('express-session');
const { MikroORM } = require('@mikro-orm/core');
const { MikroOrmStore } = require('./mikro-orm-store');
const { Session, SessionSchema } = require('./session-entity');

/** The environment variable name, or exit with a message naming it. */
function required(name) {
    const v = process.env[name];
    if (v === undefined || v === '') {
        console.error('express-peer: %s is not set', name);
        process.exit(2);
    }
    return v;
}

/** MikroORM's configuration for the database DB_KIND names. */
function ormConfig() {
    const common = { entities: [SessionSchema], debug: false };
    const kind = required('DB_KIND');
    if (kind === 'sqlite') {
        const { LibSqlDriver } = require('@mikro-orm/libsql');
        // libsql's busy timeout (ms): httpd writes the same file
        return { ...common, driver: LibSqlDriver, dbName: required('DB_PATH'),
                 driverOptions: { connection: { timeout: 5000 } } };
    }
    if (kind === 'pgsql') {
        const { PostgreSqlDriver } = require('@mikro-orm/postgresql');
        return { ...common, driver: PostgreSqlDriver,
                 host: required('PG_HOST'), port: Number(required('PG_PORT')),
                 user: required('PG_USER'), password: process.env.PG_PASSWORD,
                 dbName: required('PG_DBNAME') };
    }
    console.error('express-peer: DB_KIND must be sqlite or pgsql, not %s', kind);
    process.exit(2);
}

/** The secrets array; express-session signs with the first. */
function secrets() {
    const list = JSON.parse(required('SECRETS'));
    if (!Array.isArray(list) || list.length === 0 ||
        !list.every((s) => typeof s === 'string' && s !== '')) {
        console.error('express-peer: SECRETS must be a JSON array of strings');
        process.exit(2);
    }
    return list;
}

/** Creates the session table and its index unless they exist: a table
 *  httpd made is left as it is (no ALTER under a running httpd). */
async function ensureSchema(orm) {
    const knex = orm.em.getConnection().getKnex();
    if (!(await knex.schema.hasTable('session'))) {
        await orm.getSchemaGenerator().createSchema();
    }
}

/** The routes the tests drive, on the session middleware. */
function routes(app) {
    app.get('/login', (req, res) => {
        req.session.user = String(req.query.user || 'alice');
        req.session.visits = 0;
        req.session.remember = true;
        req.session.prefs = { theme: 'dark', langs: ['en', 'fr'] };
        res.json(req.session);
    });
    app.get('/passport-login', (req, res) => {
        req.session.passport = { user: String(req.query.user || 'alice') };
        res.json(req.session);
    });
    app.get('/whoami', (req, res) => {
        if (!req.session.user) {
            return res.status(401).json({ error: 'not logged in' });
        }
        return res.json(req.session);
    });
    app.get('/session', (req, res) => {
        res.json({ sid: req.sessionID, session: req.session });
    });
    app.get('/set', (req, res) => {
        for (const [k, v] of Object.entries(req.query)) {
            req.session[k] = String(v);
        }
        res.json(req.session);
    });
    app.get('/incr', (req, res) => {
        req.session.visits = (Number(req.session.visits) || 0) + 1;
        res.json(req.session);
    });
    app.get('/logout', (req, res, next) => {
        req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
    });
    app.use((err, req, res, next) => {   // eslint-disable-line no-unused-vars
        console.error('express-peer: %s %s: %s', req.method, req.url, err.stack);
        res.status(500).json({ error: String(err.message) });
    });
}

async function main() {
    const orm = await MikroORM.init(ormConfig());
    await ensureSchema(orm);
    const cookie = {};
    if (process.env.COOKIE_MAX_AGE) {
        cookie.maxAge = Number(process.env.COOKIE_MAX_AGE);
    }
    const app = express();
    app.set('etag', false);
    app.use(session({
        store: new MikroOrmStore(orm, Session),
        secret: secrets(),
        resave: false,
        saveUninitialized: false,
        cookie,
    }));
    routes(app);
    const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
        console.log('express-peer ready port=%d', server.address().port);
    });
    const stop = () => server.close(() => orm.close().then(() => process.exit(0)));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
}

main().catch((err) => {
    console.error('express-peer: %s', err.stack || err);
    process.exit(1);
});
