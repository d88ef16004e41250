# Helpers shared by the R reference scripts of the regression models (fine_gray.R, cox_counting.R,
# rmst.R, post_transplant.R). Source from the repository root: source("tests/r/helpers.R").

# jsonlite writes the JSON: numbers to 15 significant digits (digits = NA, jsonlite's maximum),
# length-1 vectors as scalars unless wrapped in I(), NA/NaN/Inf and NULL as null.
write_fixture <- function(x, path) {
  jsonlite::write_json(x, path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE)
}

# The design matrix the way analysis.stats.cox.design builds it: covariates in order; categorical
# covariates (text, or numeric ones listed in `categorical`) give one indicator per non-reference
# level (levels sorted numerically for numbers, by code point for text); numeric covariates enter
# per unit, or as the indicator "col>=cut". Returns the matrix with the dashboard's term names
# ("lineage=T-ALL", "age_years", "age_years≥10") as column names.
design_matrix <- function(d, covariates, categorical = character(0), reference = list(), cuts = list()) {
  cols <- list()
  for (cv in covariates) {
    x <- d[[cv]]
    if (cv %in% categorical || !is.numeric(x)) {
      lv <- if (is.numeric(x)) as.character(sort(unique(x))) else sort(unique(x), method = "radix")
      ref <- if (!is.null(reference[[cv]])) reference[[cv]] else lv[1]
      for (l in setdiff(lv, ref)) cols[[paste0(cv, "=", l)]] <- as.numeric(as.character(x) == l)
    } else if (!is.null(cuts[[cv]])) {
      cols[[paste0(cv, "\u2265", format(cuts[[cv]]))]] <- as.numeric(x >= cuts[[cv]])
    } else {
      cols[[cv]] <- as.numeric(x)
    }
  }
  m <- do.call(cbind, cols)
  colnames(m) <- names(cols)
  m
}

# One design row for a covariate profile (a named list of values, in the data's own terms).
profile_row <- function(d, profile, covariates, categorical = character(0), reference = list(), cuts = list()) {
  row <- d[1, covariates, drop = FALSE]
  for (cv in covariates) row[[cv]] <- profile[[cv]]
  both <- rbind(d[, covariates, drop = FALSE], row)
  m <- design_matrix(both, covariates, categorical, reference, cuts)
  m[nrow(m), , drop = TRUE]
}

spec_list <- function(time, status, covariates, categorical, reference, cuts) {
  list(duration = time, status = status, covariates = I(covariates), categorical = I(as.character(categorical)),
       reference = if (length(reference)) reference else NULL, cuts = if (length(cuts)) cuts else NULL)
}
