#pragma once
// trignet: header-only inference for trigger-grade neural networks.
// Include this one header; see README.md and docs/.

#include "trignet/config.hpp"
#include "trignet/error.hpp"
#include "trignet/fixed_engine/fixed_model.hpp"
#include "trignet/load.hpp"
#include "trignet/model.hpp"
#include "trignet/model_spec.hpp"
#include "trignet/session.hpp"
#include "trignet/span.hpp"
#include "trignet/verify.hpp"
