// Adam with its state (see optimizer.h).
#include "pipeline/train/optimizer.h"

#include <map>

#include "engine/autograd.h"
#include "engine/error.h"

namespace lits {

AdamOptimizer::AdamOptimizer(const NamedTensors& params, double weight_decay) : params_(params) {
  hyper_.weight_decay = weight_decay;
  for (const auto& [name, p] : params_) {
    params_only_.push_back(p);
    m_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    v_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
  }
}

void AdamOptimizer::step(double lr) {
  AdamHyper h = hyper_;
  h.lr = lr;
  adam_step(params_only_, m_, v_, steps_ + 1, h);
  ++steps_;
}

void AdamOptimizer::prepare_launch(double lr, const Tensor& guard) {
  AdamHyper h = hyper_;
  h.lr = lr;
  launch_.prepare(params_only_, m_, v_, steps_ + 1, h, guard);
}

NamedTensors AdamOptimizer::state() const {
  NamedTensors s;
  for (size_t k = 0; k < params_.size(); ++k) s.emplace_back("m." + params_[k].first, m_[k]);
  for (size_t k = 0; k < params_.size(); ++k) s.emplace_back("v." + params_[k].first, v_[k]);
  return s;
}

void AdamOptimizer::load_state(const NamedTensors& state, int64_t steps) {
  LITS_CHECK(steps >= 0, "optimizer state: step count " << steps);
  std::map<std::string, const Tensor*> by_name;
  for (const auto& [name, t] : state) by_name[name] = &t;
  NoGradGuard no_grad;
  for (size_t k = 0; k < params_.size(); ++k) {
    for (const auto& [prefix, into] : {std::pair{"m.", &m_[k]}, std::pair{"v.", &v_[k]}}) {
      const std::string name = prefix + params_[k].first;
      auto it = by_name.find(name);
      LITS_CHECK(it != by_name.end(), "optimizer state: '" << name << "' is missing");
      LITS_CHECK(it->second->shape() == into->shape(),
                 "optimizer state: '" << name << "' is " << it->second->str() << ", the parameter " << into->str());
      into->copy_(*it->second);
    }
  }
  steps_ = steps;
}

}  // namespace lits
