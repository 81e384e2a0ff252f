#include "tests.h"

TCase *tcase_sql(void)
{
    TCase *tc = tcase_create("sql");
    return tc;
}
