#include <string.h>

#include <apr_strings.h>

#include "orm_ttl.h"
#include "orm_write.h"

/** One write in progress: where it goes, what it writes, how it ends. */
typedef struct {
    orm_conn_t *conn;
    apr_pool_t *pool;
    const orm_write_t *write;
    const orm_save_facts_t *facts;
    orm_write_result_t *result;     /* result->row is the row written */
    int merge_ready;                /* result->merge is set up */
} writer_t;

static void end_as(orm_write_result_t *result, orm_write_outcome_e outcome,
                   orm_write_event_e event)
{
    result->outcome = outcome;
    result->event = event;
}

/* A merge that gave NULL: the request gives way (nothing saved, no cookie)
 * either way; the event says why. */
static void merge_refused(orm_write_result_t *result)
{
    end_as(result, ORM_WRITE_GAVE_WAY,
           result->merge.refusal == ORM_MERGE_TOO_BIG ? ORM_WRITE_TOO_BIG
                                                      : ORM_WRITE_MOVED);
}

static void merged(orm_write_result_t *result, int locked)
{
    end_as(result, ORM_WRITE_SAVED, ORM_WRITE_MERGED);
    result->locked = locked;
}

/* The merge of this request's changes (the keys it changed since it
 * loaded, or for opaque data the whole of it) into a stored row. */
static void merge_init(writer_t *w)
{
    orm_merge_init(&w->result->merge, w->pool, w->result->row->data,
                   w->facts->entries, w->facts->stored->data,
                   w->facts->max_size);
    w->merge_ready = 1;
}

/* merge_init, unless it was done: while row->data is still this
 * request's own. */
static void merge_prepare(writer_t *w)
{
    if (!w->merge_ready) {
        merge_init(w);
    }
}

/* After a lost race: reads the row again and applies this request's
 * changes to what is stored now, into row->data with *version the stored
 * one. row->data NULL when there is nothing to write: the row ended or the
 * merge was refused (the result says which). */
static apr_status_t merge_again(writer_t *w, apr_int64_t *version)
{
    orm_row_t *row = w->result->row;
    orm_row_t *stored = NULL;
    apr_status_t rv;

    row->data = NULL;
    if ((rv = orm_store_load(w->conn, w->facts->stored_id, w->facts->now_ms,
                             &stored)) != APR_SUCCESS) {
        return rv;
    }
    if (stored == NULL) {
        end_as(w->result, ORM_WRITE_ENDED, ORM_WRITE_ROW_ENDED);
        return APR_SUCCESS;
    }
    row->data = orm_merge_into_stored(&w->result->merge, w->pool,
                                      stored->data);
    row->source = stored->source;
    if (row->data == NULL) {
        merge_refused(w->result);
    }
    *version = stored->updated_at_ms;
    return APR_SUCCESS;
}

/* Lost races merged without a lock, attempts at most: each a read of the
 * row and a write only if it is still what was read. *done when the row
 * was written, or there is nothing to write (row->data NULL); else the
 * lock is next. */
static apr_status_t merge_unlocked(writer_t *w, int attempts, int *done)
{
    orm_row_t *row = w->result->row;
    int matched = 0, attempt;
    apr_status_t rv;

    *done = 1;
    for (attempt = 0; attempt < attempts; attempt++) {
        apr_int64_t version = 0;

        if ((rv = merge_again(w, &version)) != APR_SUCCESS
            || row->data == NULL) {
            return rv;
        }
        row->updated_at_ms = orm_policy_next_version(w->facts->now_ms,
                                                     version);
        rv = orm_store_update_if(w->conn, w->facts->stored_id, row, version,
                                 &matched);
        if (rv != APR_SUCCESS || matched) {
            if (rv == APR_SUCCESS) {
                merged(w->result, 0);
            }
            return rv;
        }
        w->result->races_lost++;
    }
    *done = 0;
    return APR_SUCCESS;
}

/* The last resort after lost races: the merge under a row lock. */
static apr_status_t merge_locked(writer_t *w)
{
    int found = 0;
    apr_status_t rv = orm_store_merge(w->conn, w->facts->stored_id,
                                      w->result->row, w->facts->now_ms,
                                      orm_merge_into_stored,
                                      &w->result->merge, &found);

    if (rv == APR_SUCCESS && found == 0) {
        end_as(w->result, ORM_WRITE_ENDED, ORM_WRITE_ROW_ENDED);
    }
    else if (rv == APR_SUCCESS && found < 0) {
        merge_refused(w->result);
    }
    else if (rv == APR_SUCCESS) {
        merged(w->result, 1);
    }
    return rv;
}

/* The row was written by another request since this one loaded it (a
 * conditional write found it, or the turn showed it). The first time, the
 * merge of this request's changes is set up. True when that settles the
 * write: this request changed nothing but the expiry, which the other
 * writer moved already. */
static int race_lost(writer_t *w)
{
    w->result->races_lost++;
    merge_prepare(w);
    if (orm_merge_changes_nothing(&w->result->merge)) {
        end_as(w->result, ORM_WRITE_SAVED, ORM_WRITE_CHANGED_NOTHING);
        return 1;
    }
    return 0;
}

/* How merge_onto_turn went. */
typedef enum {
    TURN_NOT_NEWER = 0,         /* nothing newer kept: write as loaded */
    TURN_MERGED,                /* row->data is this request's changes on
                                 * the turn's data */
    TURN_SETTLED                /* nothing to write: the result says why */
} turn_merge_e;

/* With a turn: what the last write in turn left in the row, when
 * that came after this request loaded it. This request's changes then go
 * onto it (into row->data, with *version its version): a lock-free merge
 * known to be needed without asking the database. */
static turn_merge_e merge_onto_turn(writer_t *w, const orm_write_turn_t *turn,
                                    apr_int64_t *version)
{
    apr_int64_t kept_version = 0;
    const char *kept;

    if (turn == NULL || w->write->merge_attempts == 0
        || (kept = orm_write_turn_last(turn, &kept_version)) == NULL
        || kept_version <= *version) {
        return TURN_NOT_NEWER;
    }
    if (race_lost(w)) {
        return TURN_SETTLED;
    }
    w->result->row->data = orm_merge_into_stored(&w->result->merge, w->pool,
                                                 kept);
    if (w->result->row->data == NULL) {
        merge_refused(w->result);
        return TURN_SETTLED;
    }
    *version = kept_version;
    return TURN_MERGED;
}

/* data with the changes another write left applied, by that write's own
 * merge (its keys, its size limit); NULL when the merge refuses. */
static const char *apply_left(apr_pool_t *pool, const char *data,
                              const orm_write_changes_t *changes)
{
    const apr_array_header_t *removed =
        apr_table_elts(orm_codec_decode(pool, changes->removed));
    const apr_table_entry_t *keys = (const apr_table_entry_t *)removed->elts;
    orm_diff_t diff;
    orm_merge_t merge;
    int i;

    diff.set = orm_codec_decode(pool, changes->set);
    diff.removed = apr_array_make(pool, removed->nelts, sizeof(const char *));
    for (i = 0; i < removed->nelts; i++) {
        APR_ARRAY_PUSH(diff.removed, const char *) = keys[i].key;
    }
    memset(&merge, 0, sizeof(merge));
    merge.diff = &diff;
    merge.max_size = changes->max_size;
    return orm_merge_into_stored(&merge, pool, data);
}

/* With the turn: the changes other writes of the session left for it go
 * into row->data, one after the other. The ones written with it, to be
 * ended once the statement has run (NULL: none); the others are ended
 * now, for their writes to make. */
static apr_array_header_t *take_left_changes(writer_t *w,
                                             orm_write_turn_t *turn)
{
    orm_row_t *row = w->result->row;
    apr_array_header_t *taken, *written;
    int i;

    if (turn == NULL || w->write->merge_attempts == 0
        || (taken = orm_write_turn_gather(turn, w->pool, row->user_name,
                                          row->expires_at_ms)) == NULL) {
        return NULL;
    }
    merge_prepare(w);
    written = apr_array_make(w->pool, taken->nelts,
                             sizeof(orm_write_taken_t));
    for (i = 0; i < taken->nelts; i++) {
        const orm_write_taken_t *t = &APR_ARRAY_IDX(taken, i,
                                                    orm_write_taken_t);
        /* encrypted data is opaque: nothing can be applied to it */
        const char *data = w->result->merge.diff
                           ? apply_left(w->pool, row->data, &t->changes)
                           : NULL;

        if (data == NULL) {
            orm_write_taken_end(turn, t, 0, 0);
            continue;
        }
        row->data = data;
        APR_ARRAY_PUSH(written, orm_write_taken_t) = *t;
    }
    return written;
}

/* Ends the changes written with this write's statement: written when it
 * went through, at the row's version. */
static void end_left_changes(orm_write_turn_t *turn,
                             const apr_array_header_t *taken, int written,
                             apr_int64_t version)
{
    int i;

    for (i = 0; taken && i < taken->nelts; i++) {
        orm_write_taken_end(turn, &APR_ARRAY_IDX(taken, i, orm_write_taken_t),
                            written, version);
    }
}

/* A session that has a row: written only if nobody wrote it since this
 * request loaded it, or since the last write in turn (one statement);
 * otherwise only the keys this request changed are merged into what is
 * stored now and written if that is still what is stored (a read and a
 * conditional write; merge_attempts of these counting the one onto the
 * turn's data), finally under a row lock. */
static apr_status_t update_session(writer_t *w, orm_write_turn_t *turn)
{
    apr_int64_t version = w->facts->stored->updated_at_ms;
    orm_row_t *row = w->result->row;
    int attempts = w->write->merge_attempts;
    int matched = 0, done;
    apr_array_header_t *taken;
    const char *own_data;
    apr_status_t rv;

    switch (merge_onto_turn(w, turn, &version)) {
    case TURN_SETTLED:
        return APR_SUCCESS;
    case TURN_MERGED:
        attempts--;
        break;
    case TURN_NOT_NEWER:
        break;
    }
    row->updated_at_ms = orm_policy_next_version(row->updated_at_ms,
                                                 version);
    own_data = row->data;
    taken = take_left_changes(w, turn);
    rv = orm_store_update_if(w->conn, w->facts->stored_id, row, version,
                             &matched);
    end_left_changes(turn, taken, rv == APR_SUCCESS && matched,
                     row->updated_at_ms);
    if (rv != APR_SUCCESS || matched) {
        if (rv == APR_SUCCESS && w->result->races_lost) {
            merged(w->result, 0);
            w->result->in_turn = 1;
        }
        return rv;
    }
    row->data = own_data;       /* the others' changes are theirs again */
    if (race_lost(w)) {
        return APR_SUCCESS;
    }
    rv = merge_unlocked(w, attempts, &done);
    if (rv != APR_SUCCESS || done) {
        return rv;
    }
    return merge_locked(w);
}

/* Leaves this request's changes (the keys it set and removed since it
 * loaded) for the holder of the session's turn to write. True when left. */
static int leave_changes(writer_t *w, orm_write_left_t *left)
{
    const orm_row_t *row = w->result->row;
    const orm_diff_t *diff;
    orm_write_changes_t changes;
    apr_table_t *removed;
    int i;

    merge_prepare(w);
    if ((diff = w->result->merge.diff) == NULL) {
        return 0;               /* encrypted: only the whole data replaces */
    }
    removed = apr_table_make(w->pool, diff->removed->nelts);
    for (i = 0; i < diff->removed->nelts; i++) {
        apr_table_setn(removed, APR_ARRAY_IDX(diff->removed, i, const char *),
                       "1");
    }
    changes.set = orm_codec_encode(w->pool, diff->set);
    changes.removed = orm_codec_encode(w->pool, removed);
    changes.owner = row->user_name;
    changes.expires_at_ms = row->expires_at_ms;
    changes.max_size = w->facts->max_size;
    return orm_write_leave(w->write->queue, w->write->store,
                           w->facts->stored_id, &changes, left);
}

/* This request's changes were written by the write before it in turn,
 * in the same statement, at version. */
static void written_in_turn(writer_t *w, const orm_write_turn_t *turn,
                            apr_int64_t version)
{
    orm_row_t *row = w->result->row;
    apr_int64_t kept_version = 0;
    const char *kept = turn ? orm_write_turn_last(turn, &kept_version)
                            : NULL;

    w->result->races_lost++;
    merged(w->result, 0);
    w->result->in_turn = 1;
    w->result->combined = 1;
    /* the row as it is now, where the turn keeps it; else a version no
     * later conditional write of this request can match */
    if (kept && kept_version == version) {
        row->data = apr_pstrdup(w->pool, kept);
        row->updated_at_ms = version;
    }
    else {
        row->updated_at_ms = 0;
    }
}

/* An update that other requests on this host may be making to the same
 * session: it waits for the session's turn (write->queue), so that they
 * reach the database one after the other, each starting from what the one
 * before wrote. Finding the turn taken, it leaves its changes for the
 * holder first, and is done if the holder wrote them. Without a turn (no
 * queue, or the wait ran out) it goes on as any write. */
static apr_status_t update_in_turn(writer_t *w)
{
    const orm_write_t *write = w->write;
    const orm_write_result_t *result = w->result;
    orm_write_turn_t turn;
    orm_write_left_t left;
    apr_int64_t version = 0;
    int has_turn, has_left = 0;
    apr_status_t rv;

    if (write->queue == NULL) {
        return update_session(w, NULL);
    }
    has_turn = orm_write_turn_take(write->queue, write->store,
                                   w->facts->stored_id, 0, &turn);
    if (!has_turn) {
        has_left = write->merge_attempts > 0 && leave_changes(w, &left);
        has_turn = orm_write_turn_take(write->queue, write->store,
                                       w->facts->stored_id, write->turn_wait,
                                       &turn);
    }
    if (has_left && orm_write_left_collect(&left, &version)
                    == ORM_LEFT_WRITTEN) {
        written_in_turn(w, has_turn ? &turn : NULL, version);
        if (has_turn) {
            orm_write_turn_end(&turn);
        }
        return APR_SUCCESS;
    }
    if (!has_turn) {
        return update_session(w, NULL);
    }
    rv = update_session(w, &turn);
    if (rv == APR_SUCCESS && (result->event == ORM_WRITE_WRITTEN
                              || result->event == ORM_WRITE_MERGED)) {
        orm_write_turn_keep(&turn, result->row->data,
                            result->row->updated_at_ms);
    }
    else if (rv != APR_SUCCESS
             || result->event != ORM_WRITE_CHANGED_NOTHING) {
        orm_write_turn_keep(&turn, NULL, 0);    /* what is stored is not
                                                 * known */
    }
    orm_write_turn_end(&turn);
    return rv;
}

/* Turns the request's old row into the marker of a rotation, written only
 * over the version this request read, with a newer one, so that no
 * concurrent write of the old token can land on it or on the new session.
 * When another request wrote the old row first, this request's changes are
 * applied to what it stored (into row->data) and the marker tried again;
 * when it rotated or ended the row, or won every race, this one gives way
 * (the outcome is not ORM_WRITE_SAVED). */
static apr_status_t mark_rotated(writer_t *w)
{
    apr_int64_t now = w->facts->now_ms;
    apr_int64_t version = w->facts->stored->updated_at_ms;
    orm_row_t marker;
    int matched = 0, attempt;
    apr_status_t rv;

    merge_init(w);
    marker.data = ORM_ROTATED_MARKER;
    marker.user_name = NULL;
    marker.expires_at_ms = now + w->write->grace_seconds * 1000;
    for (attempt = 0; ; attempt++) {
        marker.updated_at_ms = orm_policy_next_version(now, version);
        rv = orm_store_update_if(w->conn, w->facts->stored_id, &marker,
                                 version, &matched);
        if (rv != APR_SUCCESS || matched) {
            return rv;
        }
        w->result->races_lost++;
        if (attempt + 1 == ORM_ROTATE_ATTEMPTS) {
            end_as(w->result, ORM_WRITE_GAVE_WAY, ORM_WRITE_LOST_RACES);
            return APR_SUCCESS;
        }
        if ((rv = merge_again(w, &version)) != APR_SUCCESS
            || w->result->row->data == NULL) {
            return rv;
        }
    }
}

/* A login, logout or switch of user on a session with a row: the session
 * moves to a new row (write->id), and the old row becomes a marker that
 * reaches nothing, kept for the grace window so that requests still
 * carrying the old token neither reach the new session nor replace the new
 * cookie. */
static apr_status_t rotate_session(writer_t *w)
{
    apr_status_t rv = mark_rotated(w);

    if (rv != APR_SUCCESS || w->result->outcome != ORM_WRITE_SAVED) {
        return rv;
    }
    end_as(w->result, ORM_WRITE_SAVED, ORM_WRITE_ROTATED);
    if (w->write->grace_seconds == 0
        && (rv = orm_store_remove(w->conn, w->facts->stored_id))
           != APR_SUCCESS) {
        return rv;
    }
    return orm_store_insert(w->conn, w->write->id, w->result->row,
                          w->facts->now_ms);
}

apr_status_t orm_write_session(orm_conn_t *conn, apr_pool_t *pool,
                               const orm_write_t *write,
                               orm_write_result_t *result)
{
    const orm_save_facts_t *facts = write->facts;
    orm_row_t *row = apr_pcalloc(pool, sizeof(*row));
    writer_t w;

    memset(result, 0, sizeof(*result));
    result->outcome = ORM_WRITE_SAVED;
    result->event = ORM_WRITE_WRITTEN;
    row->data = facts->data;
    row->user_name = facts->owner;
    row->expires_at_ms = write->action == ORM_SAVE_UPDATE
        ? orm_ttl_write_expiry(facts->now_ms, write->ttl_seconds,
                               facts->stored->updated_at_ms,
                               facts->stored->expires_at_ms,
                               facts->touch_seconds, facts->maxage)
        : facts->now_ms + write->ttl_seconds * 1000;
    row->updated_at_ms = facts->now_ms;
    /* an update starts from the stored form it loaded */
    row->source = write->action == ORM_SAVE_UPDATE ? facts->stored->source
                                                   : NULL;
    result->row = row;
    w.conn = conn;
    w.pool = pool;
    w.write = write;
    w.facts = facts;
    w.result = result;
    w.merge_ready = 0;
    switch (write->action) {
    case ORM_SAVE_ROTATE:
        return rotate_session(&w);
    case ORM_SAVE_UPDATE:
        return update_in_turn(&w);
    case ORM_SAVE_NEW:
        /* by cookie the id is a new token's: nobody has it */
        return facts->mode == ORM_KEY_COOKIE
               ? orm_store_insert(conn, write->id, row, facts->now_ms)
               : orm_store_save(conn, write->id, row, facts->now_ms);
    default:
        return APR_EINVAL;      /* not a write */
    }
}
