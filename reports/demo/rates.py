"""The demo models of an accuracy study: how well each discriminates, how the development cases are split,
and how well the segmentation models outline the vertebrae. Demo realism, not protocol facts: the names are
the registry's (NCT07306858), the figures typical of published CT models for acute vs chronic fractures."""

MODEL_VERSION = "1.0"

# Classification models and their AUC at the development centre; each is a little lower at the external
# centre (another scanner, another population), by EXTERNAL_DROP drawn per model.
CLASSIFIERS = (("VGG-16", 0.80), ("DenseNet-121", 0.86), ("ViT-B/16", 0.92))
AUC_JITTER = 0.01  # +/- around each model's AUC, drawn from the seed
EXTERNAL_DROP = (0.025, 0.045)  # so that the AUCs of the rows differ by 0.02-0.05
AUC_TOLERANCE = 0.002  # how close the drawn scores' AUC comes to its aim (bisection on the separation)

# The scores' noise, in shares of its variance: a patient's bone and image quality move all its vertebrae
# (the clustering the report's bootstrap allows for), and a vertebra hard for one model is hard for the
# others (their AUCs are correlated, as DeLong's test of two models assumes). The rest is each model's own.
PATIENT_SHARE = 0.16
VERTEBRA_SHARE = 0.25
PROBABILITY_SLOPE = 1.6  # logistic slope from the binormal score to the probability of acute

# The development centre's patients (all their vertebrae together): training (out-of-fold predictions of
# five-fold cross-validation), validation and internal test. The external centre's are all "external".
DEVELOPMENT_SPLITS = (("train", 0.6), ("validation", 0.2), ("test", 0.2))

# Segmentation models: mean Dice per vertebra at the development centre, SD about 0.04; a little lower at
# the external centre. A collapsed vertebra is hard for every model (a shared part of the noise).
SEGMENTERS = (("U-Net", 0.86), ("U-Mamba", 0.89), ("UNETR++", 0.91))
DICE_SD = 0.04
DICE_SHARED = 0.6  # correlation of two models' Dice on the same vertebra
DICE_EXTERNAL_DROP = (0.01, 0.02)
DICE_RANGE = (0.55, 0.99)
