// ember's data loading: #include <ember/data/data.h>
#pragma once

#include <ember/data/dataloader.h>
#include <ember/data/dataset.h>
#include <ember/data/idx.h>
#include <ember/data/kfold.h>
#include <ember/data/mnist.h>
#include <ember/data/permutation.h>
