# pipelines/study.mk: the US-JEPA study as make targets (included by the
# top Makefile). Every intermediate file is a target, written atomically by
# the tools, so an interrupted study resumes where it stopped; the teacher's
# tokens are computed once and every student reads them.
#
#   make study                      SCALE=mini on the synthetic benchmark
#   make study SCALE=smoke          the whole pipeline in a few minutes (CI)
#   make study DATA=../shared/data/pocus   pretrain and probe on a real dataset
#   make study DATA=... MIX=phantom        pretrain on it and the phantom corpus together
#   make study DATA=... SPLIT=60,20,20     train,val,test % where the dataset has no splits
#   make study SCALE=paper TEACHER=vit.safetensors   a pretrained teacher instead of stage 1
#   make study JOBS=8 FANOUT='--sshloginfile nodes --workdir .'   fan out over nodes
#
# Everything lands in results/SCALE/ (results/NAME-SCALE/ with DATA=,
# results/NAME+phantom-SCALE/ with MIX=phantom); RESULTS=DIR moves the root.
#
# The study runs in stages: data (with DATA=: then the phantom corpus to mix
# in and the pretraining and task streams), corrupted test sets, models, students,
# features, probes, report. The jobs of a stage are independent: GNU parallel
# runs JOBS of them at once (default: one a core), each a make of one target
# by a tool on one thread, so the cores are never oversubscribed, and each job
# finds its inputs made by an earlier stage and skips what is already there.
# A failed job stops the study; each stage's job log is in R/logs/. The
# jobs' commands are shown with V=1.

SCALE ?= mini
# the paper's probe protocol, which smoke cuts down
SEEDS := 5
FRACTIONS := 1,5,10,50,100
CORRUPTIONS := $(foreach k,blur contrast speckle,$(k)-1 $(k)-2 $(k)-3)
ifeq ($(SCALE),smoke)
  SIZE := 32
  N_PRETRAIN := 320
  N_TASK := 300
  PER_GROUP := 2
  PRESET := smoke
  TRAIN := --steps 60
  SEEDS := 2
  FRACTIONS := 10,100
  CORRUPTIONS := blur-2 contrast-2 speckle-2
else ifeq ($(SCALE),mini)
  SIZE := 64
  N_PRETRAIN := 3000
  N_TASK := 600
  PER_GROUP := 3
  PRESET := mini
  TRAIN := --epochs 6
else ifeq ($(SCALE),paper)
  SIZE := 224
  N_PRETRAIN := 20000
  N_TASK := 2000
  PER_GROUP := 4
  PRESET := paper
  TRAIN :=
else
  $(error SCALE must be smoke, mini or paper, not '$(SCALE)')
endif

STUDY_TASKS := liver-mass breast sites fatty-liver gallbladder ovary lung thyroid
MODELS := random teacher student usrc ijepa
RESULTS ?= results
ifdef MIX
  ifneq ($(MIX),phantom)
    $(error MIX can only be phantom, not '$(MIX)')
  endif
  ifndef DATA
    $(error MIX=phantom mixes the phantom corpus into DATA's pretraining: give DATA too)
  endif
endif
ifdef DATA
  NAME := $(notdir $(abspath $(DATA)))
  R := $(RESULTS)/$(NAME)$(if $(MIX),+$(MIX))-$(SCALE)
  STUDY_TASKS := $(NAME)
else
  R := $(RESULTS)/$(SCALE)
endif
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
# each tool one thread: parallel runs JOBS of them at once
T := -j 1
BIN := $(abspath $(BINDIR))
say = @printf '\n== %s\n' "$(1)" >&2

# the files of each stage
ifdef DATA
DATA_FILES := $(R)/data/all.usj
MIX_FILES := $(if $(MIX),$(R)/data/phantom.usj)
SPLIT_FILES := $(R)/data/pretrain.usj $(R)/data/$(NAME).usj
else
DATA_FILES := $(R)/data/pretrain.usj $(foreach t,$(STUDY_TASKS),$(R)/data/$(t).usj)
MIX_FILES :=
SPLIT_FILES :=
endif
CORRUPT_FILES := $(foreach t,$(STUDY_TASKS),$(foreach c,$(CORRUPTIONS),$(R)/data/$(t)-$(c).usj))
TEACHER_TARGETS := $(R)/models/random.usj $(R)/models/ijepa.usj $(R)/targets.usj
STUDENTS := $(R)/models/student.usj $(R)/models/usrc.usj
FEATURES := $(foreach m,$(MODELS),$(foreach t,$(STUDY_TASKS),\
	$(R)/features/$(m)/$(t).usj $(foreach c,$(CORRUPTIONS),$(R)/features/$(m)/$(t)-$(c).usj)))
PROBES := $(foreach m,$(MODELS),$(foreach t,$(STUDY_TASKS),$(R)/probes/$(m)-$(t).usj))

# the variables a job's make needs to name the same files
STUDY_VARS := SCALE=$(SCALE) RESULTS=$(RESULTS) $(if $(DATA),DATA=$(abspath $(DATA))) $(if $(MIX),MIX=$(MIX)) \
	$(if $(SPLIT),SPLIT=$(SPLIT)) \
	$(if $(TEACHER),TEACHER=$(abspath $(TEACHER)))
# fan_out STAGE, FILES: make each of FILES as its own job, JOBS at a time
define fan_out
$(call say,$(1): $(words $(2)) jobs$(comma) $(JOBS) at a time)
@mkdir -p $(R)/logs
@printf '%s\n' $(2) | parallel --jobs $(JOBS) --halt now,fail=1 --line-buffer --joblog $(R)/logs/$(1).jobs $(FANOUT) \
	$(MAKE) --no-print-directory $(if $(V),,-s) -f $(abspath $(firstword $(MAKEFILE_LIST))) $(STUDY_VARS) {}
endef
comma := ,

.PHONY: study
study: check-deps all
	$(call fan_out,data,$(DATA_FILES))
	$(if $(MIX_FILES),$(call fan_out,mix,$(MIX_FILES)))
	$(if $(SPLIT_FILES),$(call fan_out,splits,$(SPLIT_FILES)))
	$(call fan_out,corrupted,$(CORRUPT_FILES))
	$(call fan_out,models,$(TEACHER_TARGETS))
	$(call fan_out,students,$(STUDENTS))
	$(call fan_out,features,$(FEATURES))
	$(call fan_out,probes,$(PROBES))
	@$(MAKE) --no-print-directory $(if $(V),,-s) $(STUDY_VARS) $(R)/report/report.md
	@echo "study: $(R)/report/report.md" >&2

# ---- data ----
ifdef DATA
$(R)/data/all.usj:
	$(call say,ingesting $(DATA))
	@mkdir -p $(@D)
	$(BIN)/us-ingest --size $(SIZE) $(if $(SPLIT),--split $(SPLIT)) $(T) -o $@ $(DATA)
# pretraining reads the train and val splits of every dataset in the stream
# (us-salt-train --splits), so the test split is never trained on
$(R)/data/pretrain.usj: $(R)/data/all.usj $(if $(MIX),$(R)/data/phantom.usj)
	cat $^ > $@.tmp && mv $@.tmp $@
$(R)/data/$(STUDY_TASKS).usj: $(R)/data/all.usj
	cp $< $@.tmp && mv $@.tmp $@
# the phantom pretraining corpus, as many images as the dataset has
$(R)/data/phantom.usj: $(R)/data/all.usj
	$(call say,simulating a phantom corpus to mix in)
	$(BIN)/us-phantom --task pretrain -n $$($(BIN)/us-inspect --json $< | sed -n 's/.*"records":\([0-9][0-9]*\),"streams".*/\1/p') \
		--size $(SIZE) --overlays 0.2 --stream $(T) -o $@
else
$(R)/data/pretrain:
	$(call say,simulating the pretraining corpus)
	@mkdir -p $(@D)
	$(BIN)/us-phantom --task pretrain -n $(N_PRETRAIN) --size $(SIZE) --overlays 0.2 $(T) -o $@
$(R)/data/%-phantom:
	$(call say,simulating $*)
	@mkdir -p $(@D)
	$(BIN)/us-phantom --task $* -n $(N_TASK) --per-group $(PER_GROUP) --size $(SIZE) --overlays 0.2 --seed 1 $(T) -o $@
$(R)/data/pretrain.usj: $(R)/data/pretrain
	$(BIN)/us-ingest --size $(SIZE) $(T) -o $@ $<
$(R)/data/%.usj: $(R)/data/%-phantom
	$(BIN)/us-ingest --size $(SIZE) $(T) -o $@ $<
endif

# corrupted test sets: TASK-KIND-SEVERITY
define corrupt_rule
$(R)/data/$(1)-$(2).usj: $(R)/data/$(1).usj
	$(BIN)/us-corrupt --kind $(word 1,$(subst -, ,$(2))) --severity $(word 2,$(subst -, ,$(2))) -o $$@ $$<
endef
$(foreach t,$(STUDY_TASKS),$(foreach c,$(CORRUPTIONS),$(eval $(call corrupt_rule,$(t),$(c)))))

# ---- models ----
TRAIN_ARGS = --preset $(PRESET) $(TRAIN) $(T)
$(R)/models/random.usj: $(R)/data/pretrain.usj
	@mkdir -p $(@D)
	$(BIN)/us-salt-train --objective ema --preset $(PRESET) --steps 0 $(T) -o $@ $<
ifdef TEACHER
# a pretrained teacher (a checkpoint, or a timm ViT .safetensors: its grid
# must be the students', as with SCALE=paper's 224 px in 16-pixel patches)
TEACHER_MODEL := $(abspath $(TEACHER))
else
TEACHER_MODEL := $(R)/models/teacher.usj
$(R)/models/teacher.usj: $(R)/data/pretrain.usj
	$(call say,stage 1: the pixel teacher)
	@mkdir -p $(@D)
	$(BIN)/us-salt-train --objective pixels $(TRAIN_ARGS) --log $@.log -o $@ $<
endif
$(R)/targets.usj: $(TEACHER_MODEL) $(R)/data/pretrain.usj
	$(call say,the teacher's tokens: cached once)
	$(BIN)/us-teacher-encode -m $< --tokens --half $(T) -o $@ $(R)/data/pretrain.usj
$(R)/models/student.usj: $(R)/targets.usj $(R)/data/pretrain.usj
	$(call say,stage 2: the SALT student)
	$(BIN)/us-salt-train --objective latent --targets $< $(TRAIN_ARGS) --log $@.log -o $@ $(R)/data/pretrain.usj
$(R)/models/usrc.usj: $(R)/targets.usj $(R)/data/pretrain.usj
	$(call say,stage 2: the USrc student)
	$(BIN)/us-salt-train --objective latent --targets $< --usrc $(TRAIN_ARGS) --log $@.log -o $@ $(R)/data/pretrain.usj
$(R)/models/ijepa.usj: $(R)/data/pretrain.usj
	$(call say,the I-JEPA baseline)
	@mkdir -p $(@D)
	$(BIN)/us-salt-train --objective ema $(TRAIN_ARGS) --log $@.log -o $@ $<

# ---- features and probes ----
model_file = $(if $(filter teacher,$(1)),$(TEACHER_MODEL),$(R)/models/$(1).usj)
# a corrupted set (TASK-KIND-SEVERITY) is encoded on its test split only:
# us-probe --eval judges on that split, the only one us-corrupt changed
define model_rules
$(R)/features/$(1)/%.usj: $(call model_file,$(1)) $(R)/data/%.usj
	@mkdir -p $$(@D)
	$(BIN)/us-teacher-encode -m $$< --pool mean $$(if $$(filter $(addprefix %-,$(CORRUPTIONS)),$$*),--splits test) \
		$(T) -o $$@ $(R)/data/$$*.usj
endef
$(foreach m,$(MODELS),$(eval $(call model_rules,$(m))))

define model_task_rules
$(R)/probes/$(1)-$(2).usj: $(R)/features/$(1)/$(2).usj $(foreach c,$(CORRUPTIONS),$(R)/features/$(1)/$(2)-$(c).usj)
	@mkdir -p $$(@D)
	$(BIN)/us-probe --model $(1) --task $(2) --seeds $(SEEDS) --fractions $(FRACTIONS) \
		$(foreach c,$(CORRUPTIONS),--eval $(c)=$(R)/features/$(1)/$(2)-$(c).usj) $(T) -o $$@ $$<
endef
$(foreach m,$(MODELS),$(foreach t,$(STUDY_TASKS),$(eval $(call model_task_rules,$(m),$(t)))))

PROBES := $(foreach m,$(MODELS),$(foreach t,$(STUDY_TASKS),$(R)/probes/$(m)-$(t).usj))
$(R)/report/report.md: $(PROBES)
	$(call say,the report)
	rm -rf $(R)/report
	$(BIN)/us-report -o $(R)/report $^
