#include <apr_strings.h>
#include <apr_lib.h>
#include <strings.h>

#include "orm_schema.h"

/* The session's fields, by orm_field_e: the name SessionORMColumn takes,
 * which is also the field's default column. The one list of them. */
static const char *const field_names[ORM_FIELD_COUNT] = {
    "id", "data", "expires_at", "user_name", "created_at", "updated_at"
};

/* The express format's columns (connect-mikro-orm's entity as MikroORM
 * names it); NULL for a field it does not keep. */
static const char *const express_names[ORM_FIELD_COUNT] = {
    "id", "json", "expired_at", NULL, NULL, NULL
};

static const char *const format_names[] = {
    [ORM_FORMAT_NATIVE] = "native", [ORM_FORMAT_EXPRESS] = "express"
};

/* What a usable name is, for the error texts; max_len as the check uses. */
#define NAME_RULE "(letters, digits and '_', at most %d characters, not " \
                  "starting with a digit)"

const char *orm_identifier_check(const char *name, apr_size_t max_len)
{
    apr_size_t i;

    if (name == NULL || name[0] == '\0') {
        return "is empty";
    }
    if (!(apr_isalpha(name[0]) || name[0] == '_')) {
        return "must start with a letter or an underscore";
    }
    for (i = 0; name[i] != '\0'; i++) {
        if (i >= max_len) {
            return "is too long";
        }
        if (!(apr_isalnum(name[i]) || name[i] == '_')) {
            return "may contain only letters, digits and underscores";
        }
    }
    return NULL;
}

const char *orm_field_default_name(orm_field_e field)
{
    if ((int)field < 0 || field >= ORM_FIELD_COUNT) {
        return NULL;
    }
    return field_names[field];
}

int orm_field_lookup(const char *name)
{
    int i;

    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        if (name != NULL && !strcasecmp(name, field_names[i])) {
            return i;
        }
    }
    return -1;
}

/* "id, data, ...", for saying which fields there are. */
static const char *field_list(apr_pool_t *pool)
{
    const char *list = field_names[0];
    int i;

    for (i = 1; i < ORM_FIELD_COUNT; i++) {
        list = apr_pstrcat(pool, list, ", ", field_names[i], NULL);
    }
    return list;
}

const char *orm_schema_set_table(apr_pool_t *pool, orm_schema_t *schema,
                                 const char *name)
{
    const char *err = orm_identifier_check(name, ORM_TABLE_NAME_MAX);

    if (err) {
        return apr_psprintf(pool, "'%s' is not a usable table name: it %s "
                            NAME_RULE, name ? name : "", err,
                            ORM_TABLE_NAME_MAX);
    }
    schema->table = name;
    return NULL;
}

const char *orm_schema_set_column(apr_pool_t *pool, orm_schema_t *schema,
                                  const char *field, const char *column)
{
    int index = orm_field_lookup(field);
    const char *err;

    if (index < 0) {
        return apr_psprintf(pool, "unknown field '%s' (fields: %s)",
                            field ? field : "", field_list(pool));
    }
    if ((err = orm_identifier_check(column, ORM_COLUMN_NAME_MAX))) {
        return apr_psprintf(pool, "'%s' is not a usable column name for %s: "
                            "it %s " NAME_RULE, column ? column : "", field,
                            err, ORM_COLUMN_NAME_MAX);
    }
    schema->columns[index] = column;
    return NULL;
}

int orm_format_by_name(const char *name, orm_format_e *format)
{
    int i;

    for (i = ORM_FORMAT_NATIVE; i <= ORM_FORMAT_EXPRESS; i++) {
        if (name != NULL && !strcasecmp(name, format_names[i])) {
            *format = i;
            return 1;
        }
    }
    return 0;
}

const char *orm_format_name(orm_format_e format)
{
    return format == ORM_FORMAT_EXPRESS ? format_names[ORM_FORMAT_EXPRESS]
                                        : format_names[ORM_FORMAT_NATIVE];
}

orm_format_e orm_schema_format(const orm_schema_t *schema)
{
    return schema->format == ORM_FORMAT_EXPRESS ? ORM_FORMAT_EXPRESS
                                                : ORM_FORMAT_NATIVE;
}

/* The default column names of the format in effect. */
static const char *const *default_names(const orm_schema_t *schema)
{
    return orm_schema_format(schema) == ORM_FORMAT_EXPRESS ? express_names
                                                           : field_names;
}

int orm_schema_has_field(const orm_schema_t *schema, orm_field_e field)
{
    return default_names(schema)[field] != NULL;
}

const char *orm_schema_table(const orm_schema_t *schema)
{
    return schema->table ? schema->table : ORM_DEFAULT_TABLE;
}

const char *orm_schema_column(const orm_schema_t *schema, orm_field_e field)
{
    if (!orm_schema_has_field(schema, field)) {
        return NULL;
    }
    return schema->columns[field] ? schema->columns[field]
                                  : default_names(schema)[field];
}

void orm_schema_merge(orm_schema_t *merged, const orm_schema_t *parent,
                      const orm_schema_t *child)
{
    int i;

    merged->table = child->table ? child->table : parent->table;
    merged->format = child->format != ORM_FORMAT_UNSET ? child->format
                                                       : parent->format;
    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        merged->columns[i] = child->columns[i] ? child->columns[i]
                                               : parent->columns[i];
    }
}

const char *orm_schema_check_distinct(apr_pool_t *pool,
                                      const orm_schema_t *schema)
{
    int i, j;

    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        if (schema->columns[i] && !orm_schema_has_field(schema, i)) {
            return apr_psprintf(pool, "the %s format has no field %s (its "
                                "fields: id, data, expires_at)",
                                orm_format_name(schema->format),
                                field_names[i]);
        }
    }
    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        for (j = i + 1; j < ORM_FIELD_COUNT; j++) {
            const char *a = orm_schema_column(schema, i);
            const char *b = orm_schema_column(schema, j);
            if (a && b && !strcasecmp(a, b)) {
                return apr_psprintf(pool, "fields %s and %s both map to "
                                    "column '%s'", field_names[i],
                                    field_names[j], a);
            }
        }
    }
    return NULL;
}
