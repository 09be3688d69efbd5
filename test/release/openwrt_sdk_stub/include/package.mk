# Test stub of an OpenWrt SDK's include/package.mk. `make stub-package IDIR=DIR` runs the package's
# Build/Prepare, Build/Compile and install steps into DIR and writes DIR/CONTROL/{depends,conffiles},
# what the ipk would declare; it builds no ipk.
PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
STRIP := strip
RSTRIP := strip

define BuildPackage
$(eval $(Package/$(1)))
stub-package:
	$(Build/Prepare)
	$(Build/Compile)
	$(INSTALL_DIR) $$(IDIR)/CONTROL
	$(call Package/$(1)/install,$$(IDIR))
	printf '%s\n' '$(strip $(DEPENDS))' >$$(IDIR)/CONTROL/depends
	printf '%s\n' $(strip $(Package/$(1)/conffiles)) >$$(IDIR)/CONTROL/conffiles
	printf '%s\n' '$$(RSTRIP)' >$$(IDIR)/CONTROL/strip
endef
