#include "labutil.h"
int main(void){return 0;}
