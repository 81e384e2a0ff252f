#include "tests.h"

TCase *tcase_token(void)
{
    TCase *tc = tcase_create("token");
    return tc;
}
