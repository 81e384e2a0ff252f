#include "tests.h"

TCase *tcase_ttl(void)
{
    TCase *tc = tcase_create("ttl");
    return tc;
}
