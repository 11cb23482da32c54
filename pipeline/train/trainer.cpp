// One training run (see trainer.h): a Trainer resolves the setup into its plan, builds data, network and
// optimizer section by section, then runs the epoch loop with validation, checkpoints and the run folder's
// files. The sections are the order of the reference's main (docs/reference.md section 6.2).
#include "pipeline/train/trainer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include "engine/autograd.h"
#include "engine/error.h"
#include "layers/norm.h"
#include "models/unet.h"
#include "pipeline/data/dataset.h"
#include "pipeline/data/loader.h"
#include "pipeline/data/split.h"
#include "pipeline/dist/distributed.h"
#include "pipeline/dist/grad_reducer.h"
#include "pipeline/io/json.h"
#include "pipeline/train/checkpoint.h"
#include "pipeline/train/graph_step.h"
#include "pipeline/train/optimizer.h"
#include "pipeline/train/run_folder.h"
#include "pipeline/train/samples.h"
#include "pipeline/train/step.h"

namespace fs = std::filesystem;

namespace lits {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string json_int_list(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s.append(i ? ", " : "").append(std::to_string(v[i]));
  return s + "]";
}

// The run folder named by `initialization` or --init: placeholder paths of the presets resolve to the save
// folder, and the Big lesion preset's misspelt 'vUnet_liver_big' to the folder the liver run creates.
std::string resolve_init(const TrainPlan& plan, const TrainOptions& o, const std::string& save_parent) {
  std::string init = o.init.empty() ? plan.initialization : o.init;
  if (init.empty()) return "";
  if (init.find("placeholder") != std::string::npos) {
    std::string base = fs::path(init).filename().string();
    if (base == "vUnet_liver_big") base = "vUnet2D_liver_big";
    init = (fs::path(save_parent).parent_path() / "Standard_Liver_Networks" / base).string();
  }
  LITS_CHECK(fs::is_directory(init), "initialization run folder '" << init
                                                                   << "' does not exist (train the liver "
                                                                      "network first, or pass --init RUN_DIR)");
  return init;
}

// Every rank must run the same job: rank 0's description of it is compared with each rank's own.
void check_same_job(Communicator& comm, const Setup& setup, const TrainOptions& o, const std::string& store,
                    const std::string& save) {
  std::ostringstream d;
  for (const SetupEntry& e : setup.entries()) d << e.section << "." << e.key << "=" << e.value.str() << "\n";
  d << "store=" << fs::absolute(store).string() << "\nsave=" << fs::absolute(save).string() << "\nresume=" << o.resume
    << "\ninit=" << o.init << "\nepochs=" << o.epochs << "\nmax_steps=" << o.max_steps << "\nsync_bn=" << o.sync_bn
    << "\nbucket_mb=" << o.bucket_mb << "\nno_date=" << o.no_date << "\n";
  const std::string mine = d.str();
  std::string lead = mine;
  comm.broadcast_host(lead, 0);
  if (lead == mine) return;
  size_t at = 0;
  while (at < mine.size() && at < lead.size() && mine[at] == lead[at]) ++at;
  const size_t line = mine.rfind('\n', at == 0 ? 0 : at - 1);
  const size_t from = line == std::string::npos ? 0 : line + 1;
  LITS_THROW("rank " << comm.rank() << " was started with another job than rank 0: its '"
                     << mine.substr(from, mine.find('\n', from) - from) << "' differs from rank 0's");
}

class Trainer {
 public:
  Trainer(const Setup& setup, const TrainOptions& options, const std::function<void(const TrainEvent&)>& on_event,
          const std::atomic<bool>* stop);
  TrainReport run();

 private:
  void folders();
  void initialization();
  void data();
  void network();
  void open_or_resume();
  void join();
  void describe();
  bool train_epoch(int64_t epoch, double lr);  // false: stopped inside the epoch (checkpoint written)
  std::vector<Overlap> validation(int64_t epoch);
  std::string training_spacing_json() const;
  bool end_epoch(int64_t epoch, double lr, const std::vector<Overlap>& volumes);  // true: stop now
  void save_latest();
  void save(const char* which);
  std::string last_checkpoint() const;
  TrainReport report(bool stopped, bool epoch_finished);

  void emit(const TrainEvent& e) const {
    if (on_event_ && lead_) on_event_(e);
  }
  void message(const std::string& text) const {
    TrainEvent e;
    e.text = text;
    emit(e);
  }

  // ---- what the run was given ----
  const Clock::time_point t_start_ = Clock::now();
  Setup setup_;
  const TrainOptions& options_;
  const std::function<void(const TrainEvent&)>& on_event_;
  const std::atomic<bool>* stop_;
  Communicator* comm_;
  int rank_, ranks_;
  bool lead_;  // rank 0 writes the run folder and reports
  Device device_;
  TrainPlan plan_;
  // ---- built section by section ----
  std::string store_dir_, save_parent_, init_dir_, run_dir_;
  std::optional<SliceStore> store_;
  VolumeSplit split_;
  std::optional<Dataset> train_set_, val_set_;
  std::optional<Generator> gen_;
  std::unique_ptr<UNet> net_;
  std::unique_ptr<AdamOptimizer> adam_;
  std::unique_ptr<GraphedStep> graphed_;  // with --cuda-graphs, where supported; it runs Adam itself
  bool graphs_checked_ = false;
  std::unique_ptr<GradReducer> reducer_;
  std::unique_ptr<SampleGrid> samples_;
  TrainState state_;
  LoaderOptions loader_options_;
  int workers_ = 1;
  int64_t steps_this_call_ = 0;
  Clock::time_point epoch_t0_;         // when the epoch in progress started in this call
  double epoch_seconds_before_ = 0.0;  // its seconds in earlier calls (a resumed epoch)
};

Trainer::Trainer(const Setup& setup, const TrainOptions& options,
                 const std::function<void(const TrainEvent&)>& on_event, const std::atomic<bool>* stop)
    : setup_(setup), options_(options), on_event_(on_event), stop_(stop), comm_(options.comm) {
  // Data parallel (also with a communicator of one rank: the same results as without, by another path).
  rank_ = comm_ != nullptr ? comm_->rank() : 0;
  ranks_ = comm_ != nullptr ? comm_->size() : 1;
  lead_ = rank_ == 0;
  device_ = parse_device(options.device);
  LITS_CHECK(comm_ == nullptr || comm_->device() == device_, "training on " << device_.str() << " with a "
                                                                            << comm_->name() << " communicator on "
                                                                            << comm_->device().str());
  LITS_CHECK(options.bucket_mb >= 1, "bucket size " << options.bucket_mb << " MiB (expected 1 or more)");
  plan_ = make_train_plan(setup_, options.epochs);
  set_precision(plan_.precision);  // for the whole process, validation included
}

// The slice store and the parent of the run folder.
void Trainer::folders() {
  store_dir_ = options_.data;
  if (store_dir_.empty() && !options_.resume.empty()) {
    // A resumed run reads the store it was started on (config.json), unless --data says otherwise.
    const Json j = read_json_file((fs::path(options_.resume) / "config.json").string());
    if (const Json* st = j.find("store"); st != nullptr && st->kind == Json::Kind::kString) store_dir_ = st->text;
  }
  if (store_dir_.empty()) {
    LITS_CHECK(!plan_.training_path.empty(),
               "no slice store: pass --data STORE (a `lits convert` output), or set Training_Path");
    store_dir_ = plan_.training_path;
  }
  save_parent_ = options_.save;
  if (save_parent_.empty())
    save_parent_ = !plan_.save_path.empty()         ? plan_.save_path
                   : plan_.task == DataTask::kLiver ? "SAVEDATA/Standard_Liver_Networks"
                                                    : "SAVEDATA/Standard_Lesion_Networks";
}

// The architecture of a trained run (docs/reference.md section 6.7): its Network keys replace the setup's.
void Trainer::initialization() {
  init_dir_ = options_.resume.empty() ? resolve_init(plan_, options_, save_parent_) : "";
  if (!init_dir_.empty()) {
    const Setup init_setup = read_run_setup(init_dir_);
    for (const SetupEntry& e : init_setup.entries())
      if (e.section == "Network") setup_.set("Network", e.key, e.value, e.file, e.line);
    set_plan_network(plan_, unet_config_from(setup_));
  } else if (options_.resume.empty() && plan_.task == DataTask::kLesion && !setup_.has("structure")) {
    message("note: a lesion run without initialization trains the Baseline network (as the reference does)");
  }
  if (comm_ != nullptr) check_same_job(*comm_, setup_, options_, store_dir_, save_parent_);
}

// The seeded split of the store's labelled volumes, and the training and validation sets.
void Trainer::data() {
  store_.emplace(store_dir_);
  std::vector<int> numbers;
  for (int64_t v = 0; v < store_->volumes(); ++v)
    if (store_->entry(v).labels) numbers.push_back(volume_number(store_->entry(v).name));
  std::sort(numbers.begin(), numbers.end());
  LITS_CHECK(!numbers.empty(), "slice store '" << store_dir_ << "' holds no training volumes (labels)");
  split_ = split_volumes(numbers, static_cast<int64_t>(plan_.seed), plan_.perc_data, plan_.train_val_split);
  LITS_CHECK(!split_.train.empty() && !split_.validation.empty(),
             "the split of " << numbers.size() << " volumes (perc_data " << plan_.perc_data << ", train_val_split "
                             << plan_.train_val_split << ") leaves " << split_.train.size() << " training and "
                             << split_.validation.size() << " validation volumes; both need at least one");
  auto names = [](const std::vector<int>& v) {
    std::vector<std::string> n;
    for (int i : v) n.push_back("volume-" + std::to_string(i));
    return n;
  };
  train_set_.emplace(*store_, names(split_.train), plan_.data, DatasetRole::kTraining);
  val_set_.emplace(*store_, names(split_.validation), plan_.data, DatasetRole::kValidation);
}

// The training volumes' median in-plane spacing [rows, columns] in mm, which inference compares a volume's
// spacing with (pipeline/infer/orientation.h).
std::string Trainer::training_spacing_json() const {
  std::array<std::vector<double>, 2> s;
  for (int64_t v = 0; v < store_->volumes(); ++v) {
    const StoreEntry& e = store_->entry(v);
    const int n = volume_number(e.name);
    if (!e.labels || std::find(split_.train.begin(), split_.train.end(), n) == split_.train.end()) continue;
    for (int a = 0; a < 2; ++a) s[static_cast<size_t>(a)].push_back(e.spacing_mm[static_cast<size_t>(a) + 1]);
  }
  std::string out = "[";
  for (int a = 0; a < 2; ++a) {
    std::vector<double>& x = s[static_cast<size_t>(a)];
    std::sort(x.begin(), x.end());
    out += (a ? ", " : "") + json_number(x.empty() ? 0.0 : x[x.size() / 2]);
  }
  return out + "]";
}

// The UNet (initialised from the seed, then from the initialization run's weights) and Adam.
void Trainer::network() {
  gen_.emplace(plan_.seed);
  net_ = std::make_unique<UNet>(plan_.net, *gen_);
  if (!init_dir_.empty()) {
    // The heads are kept fresh when the class count differs (the reference replaces them).
    const LoadedCheckpoint init = load_checkpoint((fs::path(init_dir_) / "checkpoint_best").string());
    NamedTensors keep;
    const auto own = net_->named_parameters();
    for (const auto& [n, t] : init.model) {
      bool head_mismatch = false;
      if (n.rfind("output.", 0) == 0 || n.rfind("aux.", 0) == 0)
        for (const auto& [m, mine] : own) head_mismatch = head_mismatch || (m == n && !(mine.shape() == t.shape()));
      if (!head_mismatch) keep.push_back({n, t});
    }
    if (keep.size() != init.model.size()) {
      // Load everything but the mismatched heads.
      for (const auto& entry : own) {  // not a structured binding: clang 14 cannot capture one
        if (std::none_of(keep.begin(), keep.end(), [&](const auto& k) { return k.first == entry.first; }))
          keep.push_back(entry);
      }
      message("initialization: output heads replaced (class count differs from the initialization run)");
    }
    load_module_state(*net_, keep, init_dir_ + "/checkpoint_best");
  }
  net_->to(device_);
  adam_ = std::make_unique<AdamOptimizer>(net_->named_parameters(), plan_.weight_decay);
}

// A new run folder (rank 0), or the state of checkpoint_latest to continue from.
void Trainer::open_or_resume() {
  if (!options_.resume.empty()) {
    run_dir_ = options_.resume;
    const LoadedCheckpoint c = load_checkpoint((fs::path(run_dir_) / "checkpoint_latest").string());
    load_module_state(*net_, c.model, run_dir_ + "/checkpoint_latest");
    adam_->load_state(c.optimizer, c.state.step);
    state_ = c.state;
    gen_->set_state(state_.rng_seed, state_.rng_offset);
    message("resuming " + run_dir_ + " at epoch " + std::to_string(state_.epoch) +
            (state_.epoch_step ? ", batch " + std::to_string(state_.epoch_step) : ""));
  } else if (lead_) {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    run_dir_ = create_run_folder(save_parent_, run_folder_name(setup_, options_.no_date, local));
    std::string extra = "\"store\": " + json_string(fs::absolute(store_dir_).string()) +
                        ",\n  \"split\": {\"train\": " + json_int_list(split_.train) +
                        ", \"validation\": " + json_int_list(split_.validation) + "}" +
                        ",\n  \"initialization\": " + json_string(init_dir_) +
                        ",\n  \"parameter_count\": " + std::to_string(net_->parameter_count()) +
                        ",\n  \"training_spacing_mm\": " + training_spacing_json();
    write_run_config(run_dir_, setup_, extra);
    write_parameters_txt(run_dir_, setup_);
  }
  state_.schedule = plan_.schedule.str();
}

// Data parallel: every rank starts from rank 0's weights and statistics; dropout masks differ between ranks.
void Trainer::join() {
  if (comm_ == nullptr) return;
  if (options_.resume.empty()) comm_->broadcast_host(run_dir_, 0);
  broadcast_from_rank0(*net_, *comm_);
  if (rank_ > 0) gen_->set_state(gen_->seed() ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(rank_)), gen_->offset());
  int norms = 0;
  if (options_.sync_bn)
    net_->for_each_module([&](Module& m) {
      if (auto* bn = dynamic_cast<BatchNorm2d*>(&m)) {
        bn->set_sync(comm_);
        ++norms;
      }
    });
  if (options_.sync_bn && norms == 0) message("note: --sync-bn has no effect: the network has no BatchNorm layers");
  reducer_ = std::make_unique<GradReducer>(net_->parameters(), *comm_, options_.bucket_mb << 20);
}

// The loader's settings and the start event's description of the run.
void Trainer::describe() {
  workers_ =
      options_.threads >= 0 ? options_.threads
      : device_.is_cpu()
          ? 1  // the CPU's cores train; one worker keeps up
          : static_cast<int>(std::min<int64_t>(plan_.workers, std::max(1u, std::thread::hardware_concurrency())));
  loader_options_.batch_size = plan_.batch_size;
  loader_options_.threads = workers_;
  loader_options_.prefetch = std::max(2, 2 * workers_);
  loader_options_.pin_memory = device_.is_cuda();
  loader_options_.shards = ranks_;
  loader_options_.shard = rank_;
  samples_ = std::make_unique<SampleGrid>(*val_set_);
  std::ostringstream d;
  d << "run " << run_dir_ << "\n  " << data_task_name(plan_.task) << " task, " << loss_type_name(plan_.loss) << ", "
    << net_->parameter_count() << " parameters on " << device_.label() << "; " << split_.train.size()
    << " training volumes (" << train_set_->size() << " samples per epoch, " << train_set_->positives().size()
    << " positive), " << split_.validation.size() << " validation volumes (" << val_set_->size() << " slices)\n  batch "
    << plan_.batch_size << ", crop " << plan_.data.crop_height << " x " << plan_.data.crop_width << ", augmentation "
    << plan_.data.augment.str() << ", " << plan_.schedule.str() << ", L2 " << plan_.weight_decay << ", " << workers_
    << " loader thread" << (workers_ == 1 ? "" : "s") << ", precision " << precision_name(plan_.precision);
  if (plan_.precision != Precision::kFp32 && device_.is_cpu())
    d << " (on the CPU its rounding is computed in float32: slower than fp32, for checking numerics)";
  if (comm_ != nullptr)
    d << "\n  data parallel: " << ranks_ << " ranks (" << comm_->name() << "), global batch "
      << plan_.batch_size * ranks_ << ", " << reducer_->buckets() << " gradient bucket"
      << (reducer_->buckets() == 1 ? "" : "s") << ", " << (options_.sync_bn ? "synchronized" : "per-rank")
      << " BatchNorm statistics";
  TrainEvent e;
  e.kind = TrainEvent::Kind::kStart;
  e.text = d.str();
  e.epochs = plan_.epochs;
  emit(e);
}

void Trainer::save_latest() {
  state_.step = adam_->steps();
  state_.rng_seed = gen_->seed();
  state_.rng_offset = gen_->offset();
  save("checkpoint_latest");
}

// Writes checkpoint `which` (rank 0). The write is atomic, so when it fails (a full disk) the previous file
// is still whole: the error says so, and how to go on from it.
void Trainer::save(const char* which) {
  if (!lead_) return;
  const std::string before = last_checkpoint();
  try {
    save_checkpoint((fs::path(run_dir_) / which).string(), *net_, *adam_, state_);
  } catch (const Error& e) {
    const std::string when = state_.epoch_step > 0 ? "in epoch " + std::to_string(state_.epoch) + " after batch " +
                                                         std::to_string(state_.epoch_step)
                             : state_.rows.empty() ? "before the first epoch"
                                                   : "at the end of epoch " + std::to_string(state_.rows.back().epoch);
    throw Error(std::string(e.what()) + "\nwriting " + which + " " + when + " failed; " + before +
                (before.rfind("no ", 0) == 0 ? "" : " (lits train --resume " + run_dir_ + ")"));
  }
}

// For error messages: the checkpoint a stopped run can be resumed from.
std::string Trainer::last_checkpoint() const {
  const fs::path latest = fs::path(run_dir_) / "checkpoint_latest.safetensors";
  std::error_code ec;
  if (run_dir_.empty() || !fs::exists(latest, ec)) return "no checkpoint was written yet";
  return "the previous checkpoint '" + latest.string() + "' is kept unchanged";
}

// One epoch's training steps, from where the state says the epoch stands.
bool Trainer::train_epoch(int64_t epoch, double lr) {
  const auto epoch_t0 = Clock::now();
  const double epoch_seconds_before = state_.epoch_seconds;
  net_->train();
  loader_options_.first_sample = state_.epoch_samples;
  const int64_t global_batch = plan_.batch_size * ranks_;
  const int64_t steps_per_epoch = (train_set_->size() + global_batch - 1) / global_batch;
  StepConfig step_config;
  step_config.net = net_.get();
  step_config.plan = &plan_;
  step_config.device = device_;
  step_config.reducer = reducer_.get();
  Loader loader(*train_set_, epoch, loader_options_);
  const auto train_t0 = Clock::now();
  const double train_before = state_.epoch_train_seconds;
  while (std::optional<Batch> b = loader.next()) {
    // Synchronized BatchNorm needs a sample on every rank; a last step with fewer is left out by all.
    const bool skip = options_.sync_bn && comm_ != nullptr && b->step_samples < ranks_;
    if (options_.cuda_graphs && !std::exchange(graphs_checked_, true)) {
      std::string why;
      graphed_ = GraphedStep::make_if_supported(step_config, *adam_, &why);
      if (!graphed_) message("--cuda-graphs: steps run uncaptured, since " + why);
    }
    const StepResult result = graphed_ ? graphed_->run(*b, lr) : train_step(step_config, *b, !skip);
    Overlap overlap = result.overlap;
    bool stop_now =
        (stop_ != nullptr && stop_->load()) || (options_.max_steps >= 0 && steps_this_call_ + 1 >= options_.max_steps);
    double step_loss = result.loss;
    if (comm_ != nullptr) {
      // One small reduction per step: the global mean loss, the pooled overlap, and any rank's stop.
      std::vector<double> v{result.loss * static_cast<double>(b->size()), static_cast<double>(overlap.both),
                            static_cast<double>(overlap.pred), static_cast<double>(overlap.truth),
                            stop_now ? 1.0 : 0.0};
      comm_->all_reduce_host(v);
      step_loss = v[0] / static_cast<double>(std::max<int64_t>(b->step_samples, 1));
      overlap.both = static_cast<int64_t>(v[1]);
      overlap.pred = static_cast<int64_t>(v[2]);
      overlap.truth = static_cast<int64_t>(v[3]);
      stop_now = v[4] > 0.0;
    }
    if (skip) {
      message("a last step of " + std::to_string(b->step_samples) + " samples for " + std::to_string(ranks_) +
              " ranks is left out (synchronized BatchNorm needs a sample on every rank)");
    } else {
      LITS_CHECK(std::isfinite(step_loss),
                 "the training loss became " << step_loss << " at epoch " << epoch << ", batch " << b->index
                                             << " (step " << adam_->steps() + 1 << "); stopped, " << last_checkpoint());
      if (!graphed_) adam_->step(lr);
    }
    // Training metrics: the reference's pooled Dice over chunks of verbose_idx steps.
    state_.chunk += overlap;
    if (++state_.chunk_steps == plan_.verbose_idx) {
      state_.chunk_dices.push_back(reference_dice(state_.chunk));
      state_.chunk = Overlap{};
      state_.chunk_steps = 0;
    }
    if (!skip) {  // a left-out step has no loss to average in
      state_.loss_sum += step_loss;
      ++state_.loss_count;
    }
    state_.epoch_step = b->index + 1;
    state_.epoch_samples += b->step_samples;
    state_.epoch_train_seconds = train_before + since(train_t0);
    ++steps_this_call_;

    TrainEvent e;
    e.kind = TrainEvent::Kind::kStep;
    e.epoch = epoch;
    e.epochs = plan_.epochs;
    e.step = state_.epoch_step;
    e.steps = steps_per_epoch;
    e.loss = state_.loss_sum / static_cast<double>(state_.loss_count);
    e.dice = reference_dice(state_.chunk);
    e.lr = lr;
    e.samples_per_s = static_cast<double>(state_.epoch_samples) / std::max(state_.epoch_train_seconds, 1e-9);
    // The rest of this epoch's training, then whole epochs (validation included) at the pace of the finished
    // ones, or at this epoch's training pace before any has finished.
    const double per_sample = 1.0 / std::max(e.samples_per_s, 1e-9);
    double epoch_cost = static_cast<double>(steps_per_epoch * global_batch) * per_sample;
    if (!state_.rows.empty()) {
      epoch_cost = 0.0;
      for (const EpochRow& r : state_.rows) epoch_cost += r.seconds / static_cast<double>(state_.rows.size());
    }
    e.eta_seconds = static_cast<double>((steps_per_epoch - state_.epoch_step) * global_batch) * per_sample +
                    static_cast<double>(plan_.epochs - epoch - 1) * epoch_cost;
    emit(e);

    if (stop_now && state_.epoch_samples < train_set_->size()) {
      state_.epoch_seconds = epoch_seconds_before + since(epoch_t0);
      state_.train_seconds += since(epoch_t0);
      save_latest();
      return false;
    }
  }
  // What the epoch's end adds to the epoch's time.
  epoch_t0_ = epoch_t0;
  epoch_seconds_before_ = epoch_seconds_before;
  return true;
}

// Per-volume overlaps of the validation slices (full slices, eval mode). Ranks take turns at the slices;
// the overlaps are pooled per volume, then summed over ranks. Fills the sample images.
std::vector<Overlap> Trainer::validation(int64_t epoch) {
  net_->eval();
  NoGradGuard no_grad;
  // Every rank validates rank 0's model (the one checkpointed): per-rank BatchNorm statistics differ.
  if (comm_ != nullptr) broadcast_from_rank0(*net_, *comm_, true);
  std::vector<int32_t> volumes;  // validation volumes in order
  for (const SampleRef& r : val_set_->epoch_samples(epoch))
    if (volumes.empty() || volumes.back() != r.volume) volumes.push_back(r.volume);
  std::vector<double> pooled(3 * volumes.size(), 0.0);
  LoaderOptions vo = loader_options_;
  vo.batch_size = 1;
  vo.first_sample = 0;
  samples_->clear();
  const double air = hu_normalize(-1024.0, plan_.data.standardize);
  auto validate = [&](const Batch& b, bool count) {
    // Whole slices of any size: padded with air to the network's size divisor, the output cropped back.
    const Tensor host_out = net_->run_padded(b.input.to(device_), air).out.to(Device::cpu());
    const Tensor liver = plan_.task == DataTask::kLesion ? b.liver : Tensor();
    if (count) {
      const Overlap o = overlap_of(host_out, b.target, liver, 0);
      const size_t v =
          static_cast<size_t>(std::find(volumes.begin(), volumes.end(), b.samples[0].volume) - volumes.begin());
      pooled[3 * v] += static_cast<double>(o.both);
      pooled[3 * v + 1] += static_cast<double>(o.pred);
      pooled[3 * v + 2] += static_cast<double>(o.truth);
    }
    if (lead_ && samples_->wants(b.first))
      samples_->add(b.first, b, predicted_mask(host_out, 0, liver.defined() ? liver.data<uint8_t>() : nullptr));
  };
  {
    Loader loader(*val_set_, epoch, vo);
    while (std::optional<Batch> b = loader.next())
      if (b->size() > 0) validate(*b, true);
  }
  if (comm_ != nullptr) comm_->all_reduce_host(pooled);
  // Rank 0's sample images show slices other ranks validated: it runs those few again.
  if (lead_ && comm_ != nullptr)
    for (const int64_t position : samples_->positions())
      if (!samples_->has(position)) {
        LoaderOptions one = vo;
        one.shards = 1;
        one.shard = 0;
        one.threads = 0;
        one.first_sample = position;
        Loader loader(*val_set_, epoch, one);
        validate(*loader.next(), false);
      }
  std::vector<Overlap> per_volume(volumes.size());
  for (size_t v = 0; v < volumes.size(); ++v) {
    per_volume[v].both = static_cast<int64_t>(pooled[3 * v]);
    per_volume[v].pred = static_cast<int64_t>(pooled[3 * v + 1]);
    per_volume[v].truth = static_cast<int64_t>(pooled[3 * v + 2]);
  }
  return per_volume;
}

// The epoch's row, checkpoints (latest; best on a strictly better validation Dice), log.csv, plot and
// sample images, and the epoch-end event. True when the run stops here (any rank asked).
bool Trainer::end_epoch(int64_t epoch, double lr, const std::vector<Overlap>& volumes) {
  if (state_.chunk_steps > 0) state_.chunk_dices.push_back(reference_dice(state_.chunk));
  double train_dice = 0.0;
  for (double d : state_.chunk_dices) train_dice += d;
  train_dice /= std::max<size_t>(state_.chunk_dices.size(), 1);
  EpochRow row;
  row.epoch = epoch;
  row.train_loss = state_.loss_sum / static_cast<double>(std::max<int64_t>(state_.loss_count, 1));
  row.train_dice = train_dice;
  for (const Overlap& v : volumes) row.val_dice += reference_dice(v) / static_cast<double>(volumes.size());
  for (const Overlap& v : volumes) row.val_case_dice += case_dice(v) / static_cast<double>(volumes.size());
  row.lr = lr;
  row.samples_per_s = static_cast<double>(state_.epoch_samples) / std::max(state_.epoch_train_seconds, 1e-9);
  row.seconds = epoch_seconds_before_ + since(epoch_t0_);
  state_.train_seconds += since(epoch_t0_);
  state_.rows.push_back(row);
  // The next epoch starts clean.
  state_.epoch = epoch + 1;
  state_.epoch_step = 0;
  state_.loss_sum = 0.0;
  state_.loss_count = 0;
  state_.chunk = Overlap{};
  state_.chunk_steps = 0;
  state_.chunk_dices.clear();
  state_.epoch_seconds = 0.0;
  state_.epoch_samples = 0;
  state_.epoch_train_seconds = 0.0;

  const bool best = row.val_dice > state_.best_val_dice;
  if (best) {
    state_.best_val_dice = row.val_dice;
    state_.best_epoch = epoch;
  }
  save_latest();
  if (lead_) {
    if (best) save("checkpoint_best");
    write_log_csv(run_dir_, state_.rows);
    write_training_plot(run_dir_, state_.rows);
    samples_->write((fs::path(run_dir_) / "samples_latest.png").string());
    if (best) samples_->write((fs::path(run_dir_) / "samples_best.png").string());
  }

  TrainEvent e;
  e.kind = TrainEvent::Kind::kEpochEnd;
  e.epoch = epoch;
  e.epochs = plan_.epochs;
  e.loss = row.train_loss;
  e.dice = row.train_dice;
  e.val_dice = row.val_dice;
  e.val_case_dice = row.val_case_dice;
  e.samples_per_s = row.samples_per_s;
  e.seconds = row.seconds;
  e.lr = lr;
  e.best = best;
  emit(e);
  bool stop =
      (stop_ != nullptr && stop_->load()) || (options_.max_steps >= 0 && steps_this_call_ >= options_.max_steps);
  if (comm_ != nullptr) {
    std::vector<double> any{stop ? 1.0 : 0.0};
    comm_->all_reduce_host(any);
    stop = any[0] > 0.0;
  }
  return stop;
}

TrainReport Trainer::run() {
  folders();
  initialization();
  data();
  network();
  open_or_resume();
  join();
  describe();
  while (state_.epoch < plan_.epochs) {
    const int64_t epoch = state_.epoch;
    const double lr = plan_.schedule.lr_at(epoch);
    if (!train_epoch(epoch, lr)) return report(true, false);
    if (end_epoch(epoch, lr, validation(epoch))) return report(state_.epoch < plan_.epochs, true);
  }
  return report(false, true);
}

TrainReport Trainer::report(bool stopped, bool epoch_finished) {
  TrainReport r;
  r.run_dir = run_dir_;
  r.stopped = stopped;
  if (!state_.rows.empty() && epoch_finished) {
    r.last_val_dice = state_.rows.back().val_dice;
    r.last_val_case_dice = state_.rows.back().val_case_dice;
  }
  r.epochs_done = state_.epoch;
  r.steps = adam_->steps();
  r.best_val_dice = state_.best_val_dice;
  r.best_epoch = state_.best_epoch;
  r.seconds = since(t_start_);
  return r;
}

}  // namespace

TrainReport train_run(const Setup& setup, const TrainOptions& options,
                      const std::function<void(const TrainEvent&)>& on_event, const std::atomic<bool>* stop) {
  return Trainer(setup, options, on_event, stop).run();
}

}  // namespace lits
