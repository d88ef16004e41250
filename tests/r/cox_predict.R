# Reference values for analysis/stats/cox/predict.py and analysis/stats/cox/cause_specific.py,
# frozen as JSON fixtures in tests/fixtures/cox_predict/.
#
# Run from the repository root:  Rscript tests/r/cox_predict.R
# Needs jsonlite and riskRegression (Debian: r-cran-jsonlite, r-cran-riskregression 2022.11).
# Made with R 4.2, survival 3.5-3, riskRegression 2022.11.28.
#
# survfit cases (<name>.csv with the data, <name>.json with the spec, the profiles and R's output):
#   fit <- coxph(Surv(time, status) ~ ..., ties = "efron")
#   sf  <- survfit(fit, newdata = profiles)        # R's defaults for an Efron fit: stype = 2,
#                                                   # ctype = 2, conf.type = "log"
#   every row of sf (time, n.risk, n.event, n.censor, cumhaz, surv, std.err, lower, upper) and
#   summary(sf, times = ...).
# cause-specific cases (status 0 censored, 1 and 2 the competing causes):
#   csc <- CSC(Hist(time, status) ~ ..., data)      # two cause-specific coxph fits, Efron ties
#   predictRisk(csc, newdata = profiles, times = ..., cause = k)   # product.limit = TRUE
# The demo cohort case reads data/demo_cohort.csv; its MD5 is stored so that the tests notice a
# regenerated cohort (rerun this script then).

suppressPackageStartupMessages({
  library(survival)
  library(riskRegression)
})

out_dir <- file.path("tests", "fixtures", "cox_predict")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

write_fixture <- function(x, path) {
  jsonlite::write_json(x, path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE)
}

# The model frame in the dashboard's coding (analysis.stats.cox.design): factors with an explicit
# reference level, numbers per unit or as the indicator col >= cut. Profiles are coded with the data
# (rbind before coding) so that they get the same factor levels.
code_frame <- function(d, covariates, categorical, reference, cuts) {
  mf <- data.frame(row.names = seq_len(nrow(d)))
  for (j in seq_along(covariates)) {
    cv <- covariates[j]
    vn <- paste0("v", j)
    x <- d[[cv]]
    if (cv %in% categorical || !is.numeric(x)) {
      lv <- if (is.numeric(x)) as.character(sort(unique(x))) else sort(unique(x), method = "radix")
      ref <- if (!is.null(reference[[cv]])) reference[[cv]] else lv[1]
      mf[[vn]] <- relevel(factor(as.character(x), levels = lv), ref = ref)
    } else if (!is.null(cuts[[cv]])) {
      mf[[vn]] <- as.numeric(x >= cuts[[cv]])
    } else {
      mf[[vn]] <- x
    }
  }
  mf
}

prepare <- function(d, time, status, covariates, categorical, reference, cuts, profiles) {
  keep <- complete.cases(d[, c(time, status, covariates)])
  d <- d[keep, c(time, status, covariates)]
  rownames(d) <- NULL
  prof <- do.call(rbind, lapply(profiles, as.data.frame, stringsAsFactors = FALSE))
  both <- rbind(d[, covariates, drop = FALSE], prof[, covariates, drop = FALSE])
  coded <- code_frame(both, covariates, categorical, reference, cuts)
  n <- nrow(d)
  mf <- coded[seq_len(n), , drop = FALSE]
  mf$.time <- d[[time]]
  mf$.status <- d[[status]]
  newdata <- coded[n + seq_along(profiles), , drop = FALSE]
  rownames(newdata) <- NULL
  rhs <- paste(paste0("v", seq_along(covariates)), collapse = " + ")
  list(d = d, mf = mf, newdata = newdata, rhs = rhs)
}

spec_of <- function(time, status, covariates, categorical, reference, cuts) {
  list(duration = time, event = status, covariates = I(covariates), categorical = I(as.character(categorical)),
       reference = if (length(reference)) reference else NULL, cuts = if (length(cuts)) cuts else NULL)
}

survfit_reference <- function(name, d, time, status, covariates, profiles, times, categorical = character(0),
                              reference = list(), cuts = list(), write_csv = TRUE, extra = list()) {
  p <- prepare(d, time, status, covariates, categorical, reference, cuts, profiles)
  if (write_csv) write.csv(p$d, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE, na = "")
  fml <- as.formula(paste("Surv(.time, .status) ~", p$rhs))
  fit <- coxph(fml, data = p$mf, ties = "efron")
  curves <- lapply(seq_along(profiles), function(i) {
    sf <- survfit(fit, newdata = p$newdata[i, , drop = FALSE])
    s <- summary(sf, times = times, extend = FALSE)
    list(profile = profiles[[i]], time = I(sf$time), n_risk = I(sf$n.risk), n_event = I(sf$n.event),
         n_censor = I(sf$n.censor), cumhaz = I(sf$cumhaz), surv = I(sf$surv), std_err = I(sf$std.err),
         lower = I(sf$lower), upper = I(sf$upper),
         at = list(time = I(s$time), surv = I(s$surv), lower = I(s$lower), upper = I(s$upper),
                   std_err = I(s$std.err)))
  })
  res <- c(list(name = name, call = paste0("survfit(coxph(", deparse(fml), ", ties = \"efron\"), newdata = profile)",
                                            "  # v1..vk = ", paste(covariates, collapse = ", ")),
                stype = 2, ctype = 2, conf_type = sf_conf(fit, p$newdata),
                spec = spec_of(time, status, covariates, categorical, reference, cuts),
                coef = I(unname(coef(fit))), times = I(times), curves = curves), extra)
  write_fixture(res, file.path(out_dir, paste0(name, ".json")))
}

sf_conf <- function(fit, newdata) survfit(fit, newdata = newdata[1, , drop = FALSE])$conf.type

csc_reference <- function(name, d, time, status, covariates, profiles, times, categorical = character(0),
                          reference = list(), cuts = list(), write_csv = TRUE, extra = list()) {
  p <- prepare(d, time, status, covariates, categorical, reference, cuts, profiles)
  if (write_csv) write.csv(p$d, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE, na = "")
  fml <- as.formula(paste("Hist(.time, .status) ~", p$rhs))
  csc <- CSC(fml, data = p$mf)
  risk <- function(cause) {
    r <- predictRisk(csc, newdata = p$newdata, times = times, cause = cause)
    lapply(seq_len(nrow(r)), function(i) I(unname(r[i, ])))
  }
  res <- c(list(name = name, call = paste0("predictRisk(CSC(", deparse(fml), "), newdata = profiles, times, cause)"),
                spec = spec_of(time, status, covariates, categorical, reference, cuts),
                profiles = profiles, times = I(times), cause1 = risk(1), cause2 = risk(2),
                coef1 = I(unname(coef(csc$models[[1]]))), coef2 = I(unname(coef(csc$models[[2]])))), extra)
  write_fixture(res, file.path(out_dir, paste0(name, ".json")))
}

# ------------------------------------------------------------------ public data
lung2 <- survival::lung
lung2$status <- as.integer(lung2$status == 2)
lung2$sex <- ifelse(lung2$sex == 1, "male", "female")
survfit_reference("lung_mixed", lung2, "time", "status", c("age", "sex", "ph.ecog"),
                  profiles = list(list(age = 60, sex = "female", ph.ecog = 1), list(age = 75, sex = "male", ph.ecog = 2),
                                  list(age = 45, sex = "male", ph.ecog = 0)),
                  times = c(90, 180, 365, 730, 1000), categorical = "ph.ecog",
                  reference = list(sex = "male", ph.ecog = "1"))

# Heavy ties (whole months): the Efron fractions matter in the baseline hazard and its variance.
lung_m <- lung2
lung_m$time <- ceiling(lung_m$time / 30.4375)
survfit_reference("lung_months_ties", lung_m, "time", "status", c("age", "sex", "wt.loss"),
                  profiles = list(list(age = 62, sex = "male", wt.loss = 10), list(age = 70, sex = "female", wt.loss = 0)),
                  times = c(3, 6, 12, 24, 36), categorical = "sex")

vet <- survival::veteran
vet$celltype <- as.character(vet$celltype)
survfit_reference("veteran_categorical", vet, "time", "status", c("celltype", "trt", "karno"),
                  profiles = list(list(celltype = "squamous", trt = 1, karno = 60),
                                  list(celltype = "smallcell", trt = 2, karno = 30)),
                  times = c(30, 90, 180, 365), categorical = c("celltype", "trt"),
                  reference = list(celltype = "large", trt = "1"))

pb <- survival::pbc
pb$dead <- as.integer(pb$status == 2)
survfit_reference("pbc_cut", pb, "time", "dead", c("age", "bili", "edema"),
                  profiles = list(list(age = 45, bili = 1.2, edema = 0), list(age = 62, bili = 8, edema = 0.5)),
                  times = c(365, 1826, 3652), categorical = "edema", cuts = list(age = 50))

# Competing risks in pbc: 1 = transplant, 2 = death (0 censored), times in days and in months (ties).
pb2 <- pb[, c("time", "status", "age", "bili", "sex")]
pb2$sex <- as.character(pb2$sex)
csc_reference("pbc_competing", pb2, "time", "status", c("age", "bili", "sex"),
              profiles = list(list(age = 40, bili = 2, sex = "f"), list(age = 55, bili = 10, sex = "m")),
              times = c(365, 1000, 1826, 3000), categorical = "sex")
pb3 <- pb2
pb3$time <- ceiling(pb3$time / 30.4375)
csc_reference("pbc_competing_ties", pb3, "time", "status", c("age", "bili"),
              profiles = list(list(age = 50, bili = 1), list(age = 35, bili = 6)),
              times = c(12, 36, 60, 100))

# ------------------------------------------------------------------ the synthetic demo cohort
csv <- file.path("data", "demo_cohort.csv")
demo <- read.csv(csv, stringsAsFactors = FALSE)
demo$rfs_time <- ifelse(demo$relapse == 1, demo$relapse_months, demo$followup_months)
demo$rfs_event <- pmax(demo$relapse, demo$death)
demo$cause <- ifelse(demo$relapse == 1, 1L, ifelse(demo$death == 1, 2L, 0L))
demo$age_group <- ifelse(demo$age_years >= 10, "\u2265 10 y", "< 10 y")
md5 <- list(csv_md5 = unname(tools::md5sum(csv)))
prof <- list(list(age_group = "\u2265 10 y", lineage = "T-ALL", sex = "male", atg = "no", age_years = 12),
             list(age_group = "< 10 y", lineage = "B-ALL", sex = "female", atg = "yes", age_years = 6))
paper <- c("age_group", "lineage", "sex", "atg")
refs <- list(age_group = "< 10 y", lineage = "B-ALL", sex = "female", atg = "no")
survfit_reference("demo_os", demo, "followup_months", "death", paper, prof, times = c(12, 24, 60),
                  categorical = paper, reference = refs, write_csv = FALSE, extra = md5)
survfit_reference("demo_rfs", demo, "rfs_time", "rfs_event", c("age_years", "lineage"), prof,
                  times = c(12, 24, 60), categorical = "lineage", reference = refs["lineage"],
                  write_csv = FALSE, extra = md5)
csc_reference("demo_competing", demo, "rfs_time", "cause", paper, prof, times = c(12, 24, 60),
              categorical = paper, reference = refs, write_csv = FALSE, extra = md5)
cat("wrote", out_dir, "\n")
