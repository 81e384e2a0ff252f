#include "tests.h"

TCase *tcase_schema(void)
{
    TCase *tc = tcase_create("schema");
    return tc;
}
