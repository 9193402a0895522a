#include "net/addr.h"
