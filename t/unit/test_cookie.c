#include "tests.h"

TCase *tcase_cookie(void)
{
    TCase *tc = tcase_create("cookie");
    return tc;
}
