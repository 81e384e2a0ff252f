#include "tests.h"

TCase *tcase_sha256(void)
{
    TCase *tc = tcase_create("sha256");
    return tc;
}
