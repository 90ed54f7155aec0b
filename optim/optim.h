// ember's optimizers and learning-rate schedulers: #include <ember/optim/optim.h>
#pragma once

#include <ember/optim/adam.h>
#include <ember/optim/adamw.h>
#include <ember/optim/lr_scheduler.h>
#include <ember/optim/optimizer.h>
#include <ember/optim/sgd.h>
