'use strict';
/*
 * The Session entity of connect-mikro-orm's README, written as a MikroORM
 * EntitySchema so that plain node runs it (no TypeScript, no decorators):
 *
 *   @Entity() class Session {
 *     @PrimaryKey() id: string;
 *     @Property({ columnType: 'text' }) json: string;
 *     @Index() @Property({ columnType: 'bigint' }) expiredAt: number;
 *   }
 *
 * MikroORM's default naming strategy (UnderscoreNamingStrategy) gives table
 * `session`, columns `id` (varchar(255)), `json` (text) and `expired_at`
 * (bigint), and the index `session_expired_at_index`: the layout httpd's
 * express format reads and writes (issue 14).
 */
const { EntitySchema } = require('@mikro-orm/core');

class Session {}

const SessionSchema = new EntitySchema({
    class: Session,
    name: 'Session',
    properties: {
        id: { type: 'string', primary: true },
        json: { type: 'string', columnType: 'text' },
        expiredAt: { type: 'number', columnType: 'bigint', index: true },
    },
});

module.exports = { Session, SessionSchema };
