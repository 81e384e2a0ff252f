#include "tests.h"

TCase *tcase_conf(void)
{
    TCase *tc = tcase_create("conf");
    return tc;
}
