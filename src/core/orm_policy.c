#include <string.h>

#include "orm_policy.h"
#include "orm_token.h"
#include "orm_ttl.h"

int orm_policy_is_rotated(const char *data)
{
    return data[0] > '\0' && data[0] < ' ';
}

apr_array_header_t *orm_policy_cookie_tokens(apr_pool_t *pool,
                                             const apr_array_header_t *values,
                                             orm_rejected_fn *rejected,
                                             void *baton)
{
    apr_array_header_t *tokens = apr_array_make(pool, 1, sizeof(char *));
    int i;

    for (i = 0; i < values->nelts; i++) {
        const char *value = APR_ARRAY_IDX(values, i, const char *);

        if (!orm_token_is_wellformed(value, strlen(value))) {
            if (rejected) {
                rejected(baton, value);
            }
        }
        else if (tokens->nelts < ORM_MAX_COOKIE_TOKENS) {
            APR_ARRAY_PUSH(tokens, const char *) = value;
        }
    }
    return tokens;
}

void orm_load_search_init(orm_load_search_t *search, int cookie_presented)
{
    memset(search, 0, sizeof(*search));
    search->cookie_presented = cookie_presented;
}

orm_reached_e orm_load_search_next(orm_load_search_t *search,
                                   const char *stored_data)
{
    if (stored_data == NULL) {
        return ORM_REACHED_NOTHING;
    }
    if (orm_policy_is_rotated(stored_data)) {
        search->rotated_away = 1;
        return ORM_REACHED_MARKER;
    }
    search->rotated_away = 0;   /* another of its cookies is ours */
    search->found = 1;
    return ORM_REACHED_SESSION;
}

int orm_load_dirty(const orm_load_search_t *search, const orm_row_t *found,
                   apr_int64_t now_ms, apr_int64_t touch_seconds)
{
    if (found == NULL) {
        return search->cookie_presented && !search->rotated_away;
    }
    return orm_touch_due(now_ms, found->updated_at_ms, found->expires_at_ms,
                         touch_seconds, 0);
}

static int find_form_user(void *owner, const char *key, const char *value)
{
    apr_size_t len = strlen(key);

    if (!strcmp(key, "user")
        || (len > 5 && !strcmp(key + len - 5, "-user"))) {
        *(const char **)owner = value;
        return 0;
    }
    return 1;
}

const char *orm_policy_form_user(const apr_table_t *entries)
{
    const char *owner = NULL;

    apr_table_do(find_form_user, &owner, entries, NULL);
    return owner;
}

const char *orm_policy_owner(const char *user, const apr_table_t *entries)
{
    return user ? user : orm_policy_form_user(entries);
}

int orm_policy_same_owner(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && !strcmp(a, b));
}

static int count_application_entry(void *count, const char *key,
                                   const char *value)
{
    (void)value;

    if (strcmp(key, ORM_SESSION_EXPIRY_KEY)) {
        ++*(int *)count;
    }
    return 1;
}

int orm_policy_is_empty(const apr_table_t *entries)
{
    int count = 0;

    apr_table_do(count_application_entry, &count, entries, NULL);
    return count == 0;
}

int orm_policy_size_refused(apr_int64_t max_size, const char *data,
                            const char *stored)
{
    apr_size_t size = strlen(data);

    return max_size > 0 && (apr_int64_t)size > max_size
           && (stored == NULL || size >= strlen(stored));
}

apr_int64_t orm_policy_next_version(apr_int64_t now_ms, apr_int64_t version)
{
    return now_ms > version ? now_ms : version + 1;
}

/* The write of a session that is neither refused, removed, unchanged nor
 * too big. rotate: its owner changed. */
static orm_save_e write_kind(const orm_save_facts_t *facts, int rotate)
{
    const orm_row_t *stored = facts->stored;

    if (rotate) {
        return ORM_SAVE_ROTATE;
    }
    /* per user, the row written is the request's user's: a row the load
     * found for another r->user is not updated, a new one is saved */
    if (stored && (facts->mode == ORM_KEY_COOKIE
                   || !strcmp(facts->user_id, facts->stored_id))) {
        return ORM_SAVE_UPDATE;
    }
    return ORM_SAVE_NEW;
}

orm_save_e orm_policy_save(const orm_save_facts_t *facts)
{
    const orm_row_t *stored = facts->stored;
    int rotate;

    if (facts->load_failed) {
        return ORM_SAVE_NOT_LOADED;
    }
    if (facts->mode == ORM_KEY_USER && facts->user_id == NULL) {
        return ORM_SAVE_NO_USER;
    }
    /* unless it logs in itself: its session was empty, so what it saves is
     * its own */
    if (facts->rotated_away && orm_policy_form_user(facts->entries) == NULL) {
        return ORM_SAVE_ROTATED_AWAY;
    }
    if (orm_policy_is_empty(facts->entries)) {
        return ORM_SAVE_REMOVE;
    }
    rotate = facts->mode == ORM_KEY_COOKIE && stored
             && !orm_policy_same_owner(stored->user_name, facts->owner);
    if (!rotate && !facts->dirty && stored
        && !orm_touch_due(facts->now_ms, stored->updated_at_ms,
                          stored->expires_at_ms, facts->touch_seconds,
                          facts->maxage)) {
        return ORM_SAVE_UNCHANGED;
    }
    if (orm_policy_size_refused(facts->max_size, facts->data,
                                stored ? stored->data : NULL)) {
        return ORM_SAVE_TOO_BIG;
    }
    return write_kind(facts, rotate);
}

int orm_policy_remove_expires_cookie(const orm_save_facts_t *facts)
{
    return facts->mode == ORM_KEY_COOKIE
           && (facts->stored || facts->cookie_presented);
}

void orm_merge_init(orm_merge_t *merge, apr_pool_t *pool, const char *ours,
                    const apr_table_t *entries, const char *loaded,
                    apr_int64_t max_size)
{
    memset(merge, 0, sizeof(*merge));
    merge->ours = ours;
    merge->max_size = max_size;
    if (orm_codec_is_plain(pool, ours, entries)) {
        merge->diff = orm_codec_diff(pool, orm_codec_decode(pool, loaded),
                                     entries);
    }
}

const char *orm_merge_into_stored(void *data, apr_pool_t *pool,
                                  const char *stored)
{
    orm_merge_t *merge = data;
    const char *merged;

    if (orm_policy_is_rotated(stored)) {
        merge->refusal = ORM_MERGE_ROTATED;
        return NULL;
    }
    merged = merge->diff == NULL
             ? merge->ours
             : orm_codec_encode(pool,
                                orm_codec_apply(pool,
                                                orm_codec_decode(pool, stored),
                                                merge->diff));
    if (orm_policy_size_refused(merge->max_size, merged, stored)) {
        merge->refusal = ORM_MERGE_TOO_BIG;
        merge->refused_data = merged;
        return NULL;
    }
    merge->refusal = ORM_MERGE_DONE;
    return merged;
}

int orm_merge_changes_nothing(const orm_merge_t *merge)
{
    return merge->diff
           && orm_diff_is_empty(merge->diff, ORM_SESSION_EXPIRY_KEY);
}
