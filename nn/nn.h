// Everything in ember::nn: modules, layers, losses, nn::functional and nn::init.
#pragma once

#include <ember/nn/activation.h>
#include <ember/nn/clip_grad.h>
#include <ember/nn/dropout.h>
#include <ember/nn/embedding.h>
#include <ember/nn/flatten.h>
#include <ember/nn/functional.h>
#include <ember/nn/identity.h>
#include <ember/nn/init.h>
#include <ember/nn/linear.h>
#include <ember/nn/loss.h>
#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>
#include <ember/nn/module_list.h>
#include <ember/nn/normalization.h>
#include <ember/nn/sequential.h>
